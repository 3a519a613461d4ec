import Foundation
import Testing
import TestSupport

@Test func inspectPrintsTheModel() throws {
    let directory = try temporaryDirectory("cli")
    defer { try? FileManager.default.removeItem(at: directory) }
    let model = directory.appendingPathComponent("small.onnx").path
    try CLI.writeSmallModel(to: model)
    let result = try CLI.run(["inspect", model])
    #expect(result.status == 0, "\(result.stderr)")
    #expect(result.stdout.contains("input:        x: float[N, 3, 4, 4]"))
    #expect(result.stdout.contains("nodes:        2"))
    #expect(result.stdout.contains("parameters:   24 in 1 initializers (96 B)"))
    #expect(result.stdout.contains("cli-tests 1"))
}

@Test func inspectJSONHasTheDocumentedKeys() throws {
    let directory = try temporaryDirectory("cli")
    defer { try? FileManager.default.removeItem(at: directory) }
    let model = directory.appendingPathComponent("small.onnx").path
    try CLI.writeSmallModel(to: model)
    let result = try CLI.run(["inspect", model, "--json"])
    #expect(result.status == 0)
    let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
    #expect(json["format"] as? String == "onnx")
    let graph = try #require(json["graph"] as? [String: Any])
    #expect(graph["nodeCount"] as? Int == 2)
    #expect(graph["parameterCount"] as? Int == 24)
    #expect(graph["parameterBytes"] as? Int == 96)
    #expect((graph["opHistogram"] as? [String: Int]) == ["Conv": 1, "Relu": 1])
    let inputs = try #require(graph["inputs"] as? [[String: Any]])
    #expect(inputs.first?["shape"] as? [String] == ["N", "3", "4", "4"])
}

@Test func inspectEveryBundledModel() throws {
    let manifestURL = repositoryRoot.appendingPathComponent("Models/manifest.json")
    let manifest = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: manifestURL)) as? [[String: Any]])
    for entry in manifest {
        let file = try #require(entry["file"] as? String)
        let path = repositoryRoot.appendingPathComponent("Models").appendingPathComponent(file).path
        let result = try CLI.run(["inspect", path, "--json"])
        #expect(result.status == 0, "\(file): \(result.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let graph = try #require(json["graph"] as? [String: Any])
        #expect(graph["nodeCount"] as? Int == entry["nodes"] as? Int, "\(file)")
        let histogram = graph["opHistogram"] as? [String: Int] ?? [:]
        #expect(histogram["BatchNormalization", default: 0] == entry["batchnorm_nodes"] as? Int, "\(file)")
        if entry["external_data"] as? Bool == true {
            #expect((json["externalData"] as? [Any])?.isEmpty == false, "\(file) should list its external data")
        }
    }
}

@Test func malformedModelExitsTwoNamingTheFile() throws {
    let directory = try temporaryDirectory("cli")
    defer { try? FileManager.default.removeItem(at: directory) }
    let model = directory.appendingPathComponent("broken.onnx")
    try Data("this is not a protobuf".utf8).write(to: model)
    let result = try CLI.run(["inspect", model.path])
    #expect(result.status == 2)
    #expect(result.stdout.isEmpty)
    #expect(result.stderr.contains("broken.onnx"))
    #expect(result.stderr.contains("malformed-protobuf"))
}

@Test func usageErrorsExitTwo() throws {
    #expect(try CLI.run(["inspect"]).status == 2)
    #expect(try CLI.run(["no-such-command"]).status == 2)
    #expect(try CLI.run(["inspect", "a.onnx", "--no-such-flag"]).status == 2)
}

@Test func helpTeachesAndExitsZero() throws {
    let result = try CLI.run(["--help"])
    #expect(result.status == 0)
    #expect(result.stdout.contains("Exit codes"))
    #expect(result.stdout.contains("inspect"))
    let inspectHelp = try CLI.run(["inspect", "--help"])
    #expect(inspectHelp.stdout.contains("Examples:"))
}
