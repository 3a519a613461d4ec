import Foundation
import GhostIR
import GhostInterpreter
import GhostNumPy
import GhostONNX
import TestSupport
@testable import GhostPasses
import Testing

/// DBB- and ECB-style blocks and RepViT/LeViT linear heads exported by
/// Samples/blocks/export_sequential_blocks.py (both exporters), listed in
/// Tests/Fixtures/blocks/manifest_sequential.json.
private func sequentialBlocks() -> [ExportedBlock] {
    struct Manifest: Decodable { let blocks: [ExportedBlock] }
    guard let data = try? Data(contentsOf: ExportedBlock.directory.appendingPathComponent("manifest_sequential.json")) else { return [] }
    return (try? JSONDecoder().decode(Manifest.self, from: data).blocks) ?? []
}

@Test func everySequentialBlockFixtureIsPresent() {
    #expect(sequentialBlocks().count == 8)
}

@Test(arguments: sequentialBlocks())
func sequentialBlockFusesAndKeepsItsNumbers(_ block: ExportedBlock) throws {
    let directory = ExportedBlock.directory.appendingPathComponent(block.id)
    let model = try ONNXModelLoader.load(path: directory.appendingPathComponent("model.onnx").path)
    let result = try fuse(model.graph)
    for (op, count) in block.expect_fused {
        #expect(result.graph.count(op) == count, "\(block.id): \(op) \(result.graph.count(op)), expected \(count); \(result.reports.flatMap(\.skipped).map(\.reason))")
    }
    #expect(GraphVerifier.defects(in: result.graph).isEmpty)
    // The fused graph against ONNX Runtime's output of the original.
    let input = try NumPyFile.read(path: directory.appendingPathComponent("input.npy").path)
    let expected = try NumPyFile.read(path: directory.appendingPathComponent("output.npy").path)
    let inputName = result.graph.runtimeInputs[0].name
    let outputs = try Interpreter(graph: result.graph, precision: .float32).run([inputName: input])
    let output = try #require(outputs[result.graph.outputs[0].name])
    let difference = relativeDifference(output.doubleValues(), expected.doubleValues())
    #expect(difference <= 1e-5, "\(block.id): relative difference \(difference)")
}

@Test func dbbBlockMergesItsAveragePoolAndSequentialBranches() throws {
    let block = try #require(sequentialBlocks().first { $0.id == "dbb_block_torchscript" })
    let model = try ONNXModelLoader.load(path: ExportedBlock.directory.appendingPathComponent(block.file).path)
    let result = try fuse(model.graph)
    #expect(result.report("merge-sequential-convs")?.rewrites.count == 2)
    #expect(result.graph.nodes.map(\.opType) == ["Conv", "Relu"])
}
