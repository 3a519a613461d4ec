import Foundation
import GhostIR
import GhostONNX
import Testing
import TestSupport

/// Every failure reaches the user as "error: <sentence> [code]" with exit 2, or "internal
/// error: … [code]" with exit 1, mapped in one place (ExitStatus); never a Swift value dump.
private func expectCoded(_ result: CLIResult, code: String, status: Int32 = 2, mentions: [String] = [],
                         sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(result.status == status, "exit \(result.status): \(result.stderr)", sourceLocation: sourceLocation)
    #expect(result.stderr.contains("[\(code)]"), "\(result.stderr)", sourceLocation: sourceLocation)
    for text in mentions { #expect(result.stderr.contains(text), "\(text) not in \(result.stderr)", sourceLocation: sourceLocation) }
    // Signs of a dumped enum or struct: a type path, a labelled payload, a context record.
    for dump in ["GhostONNX.", "GhostIR.", "Swift.", "(path:", "Context(", "FileOutputError"] {
        #expect(!result.stderr.contains(dump), "dump in \(result.stderr)", sourceLocation: sourceLocation)
    }
}

private let model = repositoryRoot.appendingPathComponent("Models/repghostnet_025_opset13/model.onnx").path

@Test func onnxWriterFailuresCarryTheirCode() throws {
    let scratch = try temporaryDirectory("cli")
    defer { try? FileManager.default.removeItem(at: scratch) }
    let missing = scratch.appendingPathComponent("no/such/dir/fused.onnx").path
    expectCoded(try CLI.run(["fuse", model, missing]), code: "output-not-creatable", mentions: [missing])
    expectCoded(try CLI.run(["convert", model, missing]), code: "output-not-creatable", mentions: [missing])
    #expect(!FileManager.default.fileExists(atPath: missing))
}

@Test func onnxWriteErrorsAreCoded() {
    let tooLarge = ONNXWriteError.tooLargeForInline(path: "big.onnx", bytes: 3_000_000_000)
    #expect(tooLarge.code == "too-large-for-inline")
    #expect(tooLarge.localizedDescription == "big.onnx: the weights (3000000000 bytes) exceed protobuf's 2 GB message limit; write them as external data")
    let output = ONNXWriteError.output(.writeFailed(path: "m.onnx", reason: "No space left on device"))
    #expect(output.code == "write-failed")
    #expect(output.localizedDescription == "m.onnx: writing failed: No space left on device; nothing was written")
}

@Test func reportWriterFailuresCarryTheirCode() throws {
    let scratch = try temporaryDirectory("cli")
    defer { try? FileManager.default.removeItem(at: scratch) }
    let report = scratch.appendingPathComponent("missing/report.json").path
    let fused = scratch.appendingPathComponent("fused.gwt").path
    expectCoded(try CLI.run(["fuse", model, fused, "--report", report]), code: "output-not-creatable", mentions: [report])
    #expect(!FileManager.default.fileExists(atPath: fused), "fuse wrote the model although its report cannot be written")
    let copy = scratch.appendingPathComponent("copy.onnx").path
    try FileManager.default.copyItem(atPath: model, toPath: copy)
    expectCoded(try CLI.run(["verify", model, copy, "--samples", "1", "--report", report]), code: "output-not-creatable", mentions: [report])
}

@Test func commandErrorsCarryTheirCode() throws {
    let scratch = try temporaryDirectory("cli")
    defer { try? FileManager.default.removeItem(at: scratch) }
    let file = scratch.appendingPathComponent("a-file").path
    #expect(FileManager.default.createFile(atPath: file, contents: Data([1])))
    expectCoded(try CLI.run(["run", model, "--random-input", "--output-dir", file]), code: "output-dir-not-a-directory",
                mentions: ["--output-dir '\(file)' is a file, not a directory"])
    expectCoded(try CLI.run(["fuse", model, scratch.appendingPathComponent("o.gwt").path, "--disable-pass", "no-such-pass"]),
                code: "unknown-pass", mentions: ["no pass is named 'no-such-pass'"])
}

/// A graph the interpreter refuses: verify's message is the interpreter's sentence with its
/// code, as run's is — not a dump of the error enum.
@Test func interpreterRefusalsReadAsSentences() throws {
    let scratch = try temporaryDirectory("cli")
    defer { try? FileManager.default.removeItem(at: scratch) }
    let path = scratch.appendingPathComponent("unsupported.onnx").path
    let graph = Graph(
        inputs: [Value(name: "x", elementType: .float32, shape: [.fixed(1), .fixed(4)])],
        outputs: [Value(name: "y", elementType: .float32)],
        nodes: [Node(name: "odd", opType: "NoSuchOperator", inputs: ["x"], outputs: ["y"])])
    try ONNXWriter.write(graph, to: path)
    let expected = "node 'odd': operator NoSuchOperator is not supported by the reference interpreter"
    expectCoded(try CLI.run(["verify", path, path, "--samples", "1"]), code: "unsupported-operator", mentions: ["original graph cannot be run", expected])
    expectCoded(try CLI.run(["run", path, "--random-input", "--output-dir", scratch.appendingPathComponent("out").path]),
                code: "unsupported-operator", mentions: [expected])
}

/// Not equivalent is a verdict, not an error: exit 3 and no "error:" line.
@Test func notEquivalentIsExitThreeWithoutAnErrorLine() throws {
    let scratch = try temporaryDirectory("cli")
    defer { try? FileManager.default.removeItem(at: scratch) }
    func write(_ op: String, _ name: String) throws -> String {
        let path = scratch.appendingPathComponent(name).path
        let graph = Graph(
            inputs: [Value(name: "x", elementType: .float32, shape: [.fixed(1), .fixed(8)])],
            outputs: [Value(name: "y", elementType: .float32)],
            nodes: [Node(name: "n", opType: op, inputs: ["x"], outputs: ["y"])])
        try ONNXWriter.write(graph, to: path)
        return path
    }
    let result = try CLI.run(["verify", try write("Relu", "a.onnx"), try write("Neg", "b.onnx"), "--samples", "1"])
    #expect(result.status == 3, "\(result.stderr)")
    #expect(result.stderr.contains("NOT equivalent") && !result.stderr.contains("error:"), "\(result.stderr)")
}
