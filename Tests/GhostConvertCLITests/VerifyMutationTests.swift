import Foundation
import GhostGWT
import GhostIR
import Testing
import TestSupport

/// The verify gate against deliberately broken fusions: a correct .gwt passes, and every
/// mutation either fails equivalence (exit 3, naming the node) or the file's integrity (exit 2).
private struct FusedFixture {
    let directory: URL
    let original: String
    let fused: String
    let model: GWTModel

    init() throws {
        directory = try temporaryDirectory("cli")
        original = repositoryRoot.appendingPathComponent("Models/repghostnet_025_opset13/model.onnx").path
        fused = directory.appendingPathComponent("fused.gwt").path
        let result = try CLI.run(["fuse", original, fused])
        guard result.status == 0 else { throw CLIError(result.stderr) }
        model = try GWTReader.read(path: fused)
    }

    /// Writes `graph` as a sibling .gwt and verifies it against the original in float64 at 1e-5.
    func verify(_ graph: Graph, name: String) throws -> CLIResult {
        let path = directory.appendingPathComponent(name).path
        try GWTWriter.write(graph, metadata: model.metadata, to: path)
        return try CLI.run(["verify", original, path, "--tolerance", "1e-5", "--precision", "f64", "--samples", "2"])
    }

    /// A merged RepGhost kernel (a depthwise 3×3 Conv fused from several source nodes).
    func mergedConv() throws -> (index: Int, node: Node) {
        let index = try #require(model.graph.nodes.firstIndex { $0.opType == "Conv" && $0.fusedFrom.count >= 4 && $0.attribute("group")?.intValue ?? 1 > 1 })
        return (index, model.graph.nodes[index])
    }
}

private struct CLIError: Error { let message: String; init(_ message: String) { self.message = message } }

@Test func correctFusionPasses() throws {
    let fixture = try FusedFixture()
    defer { try? FileManager.default.removeItem(at: fixture.directory) }
    for precision in ["f32", "f64"] {
        let result = try CLI.run(["verify", fixture.original, fixture.fused, "--precision", precision])
        #expect(result.status == 0, "\(precision): \(result.stderr)")
        #expect(result.stderr.hasPrefix("equivalent:"))
    }
}

@Test func perturbedFusedWeightFailsAndIsLocalized() throws {
    let fixture = try FusedFixture()
    defer { try? FileManager.default.removeItem(at: fixture.directory) }
    let (_, conv) = try fixture.mergedConv()
    var graph = fixture.model.graph
    let weight = try #require(graph.initializers[conv.inputs[1]])
    graph.initializers[conv.inputs[1]] = try Tensor(float32: weight.elements(as: Float.self).map { $0 * (1 + 1e-4) }, shape: weight.shape)
    let result = try fixture.verify(graph, name: "perturbed.gwt")
    #expect(result.status == 3, "\(result.stderr)")
    #expect(result.stderr.hasPrefix("NOT equivalent"))
    #expect(result.stderr.contains("first divergence: node '\(conv.name)'"), "\(result.stderr)")
    #expect(result.stderr.contains(conv.fusedFrom[0]), "the report names the source nodes")
}

@Test func droppedBiasFails() throws {
    let fixture = try FusedFixture()
    defer { try? FileManager.default.removeItem(at: fixture.directory) }
    let (index, conv) = try fixture.mergedConv()
    var graph = fixture.model.graph
    graph.nodes[index].inputs = Array(conv.inputs.prefix(2))
    let result = try fixture.verify(graph, name: "no-bias.gwt")
    #expect(result.status == 3)
    #expect(result.stderr.contains("first divergence: node '\(conv.name)'"), "\(result.stderr)")
}

@Test func swappedBranchKernelsFail() throws {
    let fixture = try FusedFixture()
    defer { try? FileManager.default.removeItem(at: fixture.directory) }
    var graph = fixture.model.graph
    // Two merged kernels of the same shape trade places.
    let merged = graph.nodes.indices.filter { graph.nodes[$0].opType == "Conv" && graph.nodes[$0].fusedFrom.count >= 4 }
    let shapes = merged.map { graph.initializers[graph.nodes[$0].inputs[1]]?.shape ?? [] }
    var pair: (Int, Int)?
    for i in merged.indices where pair == nil {
        for j in merged.indices where j > i && shapes[i] == shapes[j] && pair == nil { pair = (merged[i], merged[j]) }
    }
    let (a, b) = try #require(pair)
    let weightA = graph.nodes[a].inputs[1]
    graph.nodes[a].inputs[1] = graph.nodes[b].inputs[1]
    graph.nodes[b].inputs[1] = weightA
    let result = try fixture.verify(graph, name: "swapped.gwt")
    #expect(result.status == 3)
    #expect(result.stderr.contains("first divergence: node '\(graph.nodes[a].name)'"), "\(result.stderr)")
}

@Test func corruptTensorByteIsAnIntegrityError() throws {
    let fixture = try FusedFixture()
    defer { try? FileManager.default.removeItem(at: fixture.directory) }
    var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: fixture.fused)))
    bytes[bytes.count - 100] ^= 0x10  // inside the tensor data section, the file's last section
    let corrupt = fixture.directory.appendingPathComponent("corrupt.gwt")
    try Data(bytes).write(to: corrupt)
    let result = try CLI.run(["verify", fixture.original, corrupt.path])
    #expect(result.status == 2)
    #expect(result.stderr.contains("checksum-mismatch"))
}

@Test func mismatchedModelsAreUsageErrors() throws {
    let fixture = try FusedFixture()
    defer { try? FileManager.default.removeItem(at: fixture.directory) }
    let other = repositoryRoot.appendingPathComponent("Models/tiny_external/model.onnx").path
    let result = try CLI.run(["verify", other, fixture.fused])
    #expect(result.status == 2)
    #expect(result.stderr.contains("inputs-differ") || result.stderr.contains("outputs-differ") || result.stderr.contains("input-shape"))
}

@Test func verifyReportIsJSON() throws {
    let fixture = try FusedFixture()
    defer { try? FileManager.default.removeItem(at: fixture.directory) }
    let report = fixture.directory.appendingPathComponent("report.json").path
    let result = try CLI.run(["verify", fixture.original, fixture.fused, "--samples", "3", "--report", report])
    #expect(result.status == 0)
    let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: report))) as? [String: Any])
    #expect(json["equivalent"] as? Bool == true)
    #expect(json["samples"] as? Int == 3)
    let results = try #require(json["results"] as? [[String: Any]])
    #expect(results.count == 3)
    let comparison = try #require((results[0]["outputs"] as? [[String: Any]])?.first?["comparison"] as? [String: Any])
    #expect((comparison["relativeError"] as? Double ?? 1) < 1e-5)
    #expect((comparison["cosineSimilarity"] as? Double ?? 0) > 0.999999)
}
