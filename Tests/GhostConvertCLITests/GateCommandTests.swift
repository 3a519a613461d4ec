import Foundation
import TestSupport
#if canImport(FoundationXML)
import FoundationXML
#endif
import GhostIR
import GhostONNX
import Testing

/// `ghost-convert gate` as CI runs it: shards, reports, exit codes, bad input.
private enum GateCLI {
    static func run(_ arguments: [String], environment: [String: String] = [:]) throws -> CLIResult {
        let process = Process()
        process.executableURL = CLI.executable
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stderr = Locked()
        let done = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            stderr.data = err.fileHandleForReading.readDataToEndOfFile()
            done.signal()
        }
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        done.wait()
        process.waitUntilExit()
        return CLIResult(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                         stderr: String(decoding: stderr.data, as: UTF8.self))
    }

    final class Locked: @unchecked Sendable { var data = Data() }

    /// (classname, name, child element names) per testcase of a JUnit file, checking the suite's counts.
    static func testcases(_ path: String) throws -> [(classname: String, name: String, outcome: String, type: String?, message: String)] {
        let document = try XMLDocument(contentsOf: URL(fileURLWithPath: path), options: [])
        let root = try #require(document.rootElement())
        #expect(root.name == "testsuites")
        let suite = try #require(root.elements(forName: "testsuite").first)
        let cases = suite.elements(forName: "testcase")
        #expect(suite.attribute(forName: "tests")?.stringValue == String(cases.count))
        return cases.map { element in
            let child = (element.children ?? []).compactMap { $0 as? XMLElement }.first
            return (element.attribute(forName: "classname")?.stringValue ?? "", element.attribute(forName: "name")?.stringValue ?? "",
                    child?.name ?? "passed", child?.attribute(forName: "type")?.stringValue, child?.attribute(forName: "message")?.stringValue ?? "")
        }
    }

    static func graph(nodes: [Node], initializers: [String: Tensor], input: [ShapeDimension]) -> Graph {
        var table = InitializerTable()
        for (name, tensor) in initializers { table[name] = tensor }
        return Graph(name: "g", inputs: [Value(name: "x", elementType: .float32, shape: input)],
                     outputs: [Value(name: "y", elementType: .float32)], initializers: table, nodes: nodes,
                     metadata: ModelMetadata(producerName: "gate-cli-tests", producerVersion: "1"))
    }

    /// Add 1e6 → Conv → BatchNormalization (mean 1e6): folding the BN into float32 weights loses
    /// ~1e6 · 2⁻²⁴ against an output of order 1, so the fusion is not equivalent at 1e-5.
    static func writeLossyFold(to path: String) throws {
        let graph = graph(
            nodes: [Node(name: "Add_0", opType: "Add", inputs: ["x", "offset"], outputs: ["s"]),
                    Node(name: "Conv_1", opType: "Conv", inputs: ["s", "W"], outputs: ["c"]),
                    Node(name: "BN_2", opType: "BatchNormalization", inputs: ["c", "gamma", "beta", "mean", "var"], outputs: ["y"])],
            initializers: ["offset": try Tensor(float32: [1e6], shape: []), "W": try Tensor(float32: [1], shape: [1, 1, 1, 1]),
                           "gamma": try Tensor(float32: [1], shape: [1]), "beta": try Tensor(float32: [0], shape: [1]),
                           "mean": try Tensor(float32: [1e6], shape: [1]), "var": try Tensor(float32: [2], shape: [1])],
            input: [.fixed(1), .fixed(1), .fixed(4), .fixed(4)])
        try ONNXWriter.write(graph, to: path)
    }

    static func writeUnsupported(to path: String) throws {
        let graph = graph(nodes: [Node(name: "Mystery_0", opType: "MysteryActivation", inputs: ["x"], outputs: ["y"])],
                          initializers: [:], input: [.fixed(1), .fixed(2)])
        try ONNXWriter.write(graph, to: path)
    }

    static var bundledModels: [String] {
        let models = repositoryRoot.appendingPathComponent("Models")
        return ((try? FileManager.default.contentsOfDirectory(atPath: models.path)) ?? [])
            .filter { FileManager.default.fileExists(atPath: models.appendingPathComponent("\($0)/model.onnx").path) }
            .map { "\($0)/model.onnx" }.sorted()
    }
}

@Test func threeShardsCoverModelsExactlyOnce() throws {
    let directory = try temporaryDirectory("cli")
    defer { try? FileManager.default.removeItem(at: directory) }
    let models = repositoryRoot.appendingPathComponent("Models").path
    var seen: [String] = []
    for k in 1...3 {
        let junit = directory.appendingPathComponent("gate-\(k).xml").path
        let json = directory.appendingPathComponent("gate-\(k).json").path
        let result = try GateCLI.run(["gate", models, "--shard", "\(k)/3", "--jobs", "2", "--samples", "1", "--junit", junit, "--json", json])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("gate: shard \(k)/3 holds"))
        let cases = try GateCLI.testcases(junit)
        #expect(cases.allSatisfy { $0.outcome == "passed" && $0.classname == models })
        let records = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as? [[String: Any]])
        #expect(records.map { $0["path"] as? String } == cases.map(\.name))
        #expect(records.allSatisfy { $0["outcome"] as? String == "equivalent" && ($0["worstRelativeError"] as? Double ?? 1) <= 1e-5 })
        seen += cases.map(\.name)
    }
    #expect(seen.count == Set(seen).count, "no model in two shards")
    #expect(Set(seen) == Set(GateCLI.bundledModels), "every model in one shard")
    #expect(GateCLI.bundledModels.count >= 20)
}

@Test func badInputIsOneFailedTestcaseEach() throws {
    let directory = try temporaryDirectory("cli")
    defer { try? FileManager.default.removeItem(at: directory) }
    let zoo = directory.appendingPathComponent("zoo")
    let output = directory.appendingPathComponent("out")
    let manager = FileManager.default
    for sub in ["good", "nested/deeper"] { try manager.createDirectory(at: zoo.appendingPathComponent(sub), withIntermediateDirectories: true) }
    try CLI.writeSmallModel(to: zoo.appendingPathComponent("good/model.onnx").path)
    try manager.copyItem(at: repositoryRoot.appendingPathComponent("Tests/Fixtures/blocks/repghost_module_torchscript/model.onnx"),
                         to: zoo.appendingPathComponent("nested/deeper/block.onnx"))
    var corrupt = [UInt8](try Data(contentsOf: zoo.appendingPathComponent("nested/deeper/block.onnx")))
    try Data(corrupt.prefix(corrupt.count * 2 / 3)).write(to: zoo.appendingPathComponent("truncated.onnx"))
    for index in stride(from: 0, to: 64, by: 1) { corrupt[index] = 0xFF }
    try Data(corrupt).write(to: zoo.appendingPathComponent("corrupt.onnx"))
    try Data("this is a README, not a model\n".utf8).write(to: zoo.appendingPathComponent("readme.onnx"))
    try manager.createSymbolicLink(atPath: zoo.appendingPathComponent("nested/loop").path, withDestinationPath: "..")
    try GateCLI.writeUnsupported(to: zoo.appendingPathComponent("unsupported.onnx").path)
    let junit = directory.appendingPathComponent("gate.xml").path
    let summary = directory.appendingPathComponent("summary.md").path

    let result = try GateCLI.run(["gate", zoo.path, "--jobs", "2", "--samples", "1", "--junit", junit,
                                  "--output-dir", output.path, "--format", "both"], environment: ["GITHUB_STEP_SUMMARY": summary])
    #expect(result.status == 2, "\(result.stderr)")
    let cases = try GateCLI.testcases(junit)
    let byName = Dictionary(uniqueKeysWithValues: cases.map { ($0.name, $0.type ?? $0.outcome) })
    #expect(byName == [
        "corrupt.onnx": "malformed-protobuf",
        "good/model.onnx": "passed",
        "nested/deeper/block.onnx": "passed",
        "nested/loop": "symlink-loop",
        "readme.onnx": "malformed-protobuf",
        "truncated.onnx": "malformed-protobuf",
        "unsupported.onnx": "unsupported-operator",
    ])
    #expect(cases.filter { $0.type != nil }.allSatisfy { $0.outcome == "error" })
    #expect(result.stderr.contains("gate: 7 models: 2 equivalent, 0 NOT equivalent, 5 errors"))
    // Only the equivalent models were written, in their layout, and nothing else is left there.
    let written = files(under: output)
    #expect(written == ["good/model.gwt", "good/model.onnx", "nested/deeper/block.gwt", "nested/deeper/block.onnx"])
    // The step summary got a table with every model.
    let table = try String(contentsOfFile: summary, encoding: .utf8)
    #expect(table.contains("| model | outcome |"))
    #expect(table.split(separator: "\n").filter { $0.hasPrefix("| `") }.count == 7)
}

@Test func notEquivalentExitsThreeNamingTheNode() throws {
    let directory = try temporaryDirectory("cli")
    defer { try? FileManager.default.removeItem(at: directory) }
    try GateCLI.writeLossyFold(to: directory.appendingPathComponent("lossy.onnx").path)
    try CLI.writeSmallModel(to: directory.appendingPathComponent("small.onnx").path)
    let junit = directory.appendingPathComponent("gate.xml").path
    let result = try GateCLI.run(["gate", directory.path, "--samples", "2", "--junit", junit])
    #expect(result.status == 3, "\(result.stderr)")
    #expect(result.stderr.contains("FAIL  lossy.onnx: NOT equivalent"), "\(result.stderr)")
    #expect(result.stderr.contains("first divergence at node"))
    let failure = try #require(try GateCLI.testcases(junit).first { $0.name == "lossy.onnx" })
    #expect(failure.outcome == "failure")
    #expect(failure.type == "not-equivalent")
    #expect(failure.message.contains("first divergence at node '"), "\(failure.message)")

    // Not equivalent and unreadable together: 2 wins, and both are counted.
    try Data([0x08]).write(to: directory.appendingPathComponent("broken.onnx"))
    let both = try GateCLI.run(["gate", directory.path, "--samples", "1"])
    #expect(both.status == 2)
    #expect(both.stderr.contains("1 equivalent, 1 NOT equivalent, 1 error"), "\(both.stderr)")
}

@Test func gateUsageErrors() throws {
    let models = repositoryRoot.appendingPathComponent("Models/tiny_external").path
    for shard in ["0/3", "4/3", "a/b", "3", "1/0"] {
        let result = try GateCLI.run(["gate", models, "--shard", shard])
        #expect(result.status == 2, "\(shard): \(result.stderr)")
        #expect(result.stderr.contains("--shard"), "\(shard): \(result.stderr)")
    }
    let missing = try GateCLI.run(["gate", "/nonexistent/zoo"])
    #expect(missing.status == 2)
    #expect(missing.stderr.contains("no such file or directory"))
    let empty = try temporaryDirectory("cli")
    defer { try? FileManager.default.removeItem(at: empty) }
    let none = try GateCLI.run(["gate", empty.path])
    #expect(none.status == 2)
    #expect(none.stderr.contains("no .onnx files"))
    #expect(try GateCLI.run(["gate", models, "--jobs", "0"]).status == 2)
    #expect(try GateCLI.run(["gate", models, "--format", "onnx"]).status == 2, "--format without --output-dir")
}

@Test func verifyDefaultsToFloat64AndWritesJUnit() throws {
    let directory = try temporaryDirectory("cli")
    defer { try? FileManager.default.removeItem(at: directory) }
    let original = repositoryRoot.appendingPathComponent("Tests/Fixtures/blocks/repghost_module_torchscript/model.onnx").path
    let fused = directory.appendingPathComponent("fused.gwt").path
    #expect(try CLI.run(["fuse", original, fused]).status == 0)
    let junit = directory.appendingPathComponent("verify.xml").path
    let result = try CLI.run(["verify", original, fused, "--samples", "2", "--junit", junit])
    #expect(result.status == 0, "\(result.stderr)")
    #expect(result.stderr.contains("f64)"), "the default precision is f64: \(result.stderr)")
    let cases = try GateCLI.testcases(junit)
    #expect(cases.count == 1)
    #expect(cases.first?.name == fused)
    #expect(cases.first?.classname == "verify")
    #expect(cases.first?.outcome == "passed")
    let document = try XMLDocument(contentsOf: URL(fileURLWithPath: junit), options: [])
    let precision = try document.nodes(forXPath: "//property[@name='precision']/@value").first?.stringValue
    #expect(precision == "f64")
    // run keeps float32, as deployed.
    let help = try CLI.run(["run", "--help"])
    #expect(help.stdout.contains("default: f32"), "\(help.stdout)")
    #expect(try CLI.run(["verify", "--help"]).stdout.contains("default: f64"))
}
