import Foundation
import GhostIR
import GhostONNX
import TestSupport
@testable import GhostPasses
import Testing

/// Re-parameterizable blocks exported from PyTorch by Samples/blocks/export_blocks.py, with both
/// exporters, and the op counts their fused graphs must have.
struct ExportedBlock: Decodable, Sendable, CustomTestStringConvertible {
    let id: String
    let file: String
    let exporter: String
    let expect_fused: [String: Int]

    var testDescription: String { id }

    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/blocks")

    static func all() -> [ExportedBlock] {
        struct Manifest: Decodable { let blocks: [ExportedBlock] }
        guard let data = try? Data(contentsOf: directory.appendingPathComponent("manifest.json")) else { return [] }
        return (try? JSONDecoder().decode(Manifest.self, from: data).blocks) ?? []
    }
}

@Test func everyBlockFixtureIsPresent() {
    #expect(ExportedBlock.all().count >= 14)
}

@Test(arguments: ExportedBlock.all())
func exportedBlockFusesToTheExpectedOps(_ block: ExportedBlock) throws {
    let model = try ONNXModelLoader.load(path: ExportedBlock.directory.appendingPathComponent(block.file).path)
    let result = try fuse(model.graph)
    for (op, count) in block.expect_fused {
        #expect(result.graph.count(op) == count, "\(block.id): \(op) \(result.graph.count(op)), expected \(count)")
    }
    #expect(result.graph.nodes.count <= model.graph.nodes.count)
    #expect(GraphVerifier.defects(in: result.graph).isEmpty)
}

@Test func dilatedBranchesExplainWhyTheyStay() throws {
    let block = try #require(ExportedBlock.all().first { $0.id == "dilated_pair_torchscript" })
    let model = try ONNXModelLoader.load(path: ExportedBlock.directory.appendingPathComponent(block.file).path)
    let reasons = try fuse(model.graph).report("merge-parallel-convs")?.skipped.map(\.reason) ?? []
    #expect(reasons.count == 1)
    #expect(reasons.first?.hasSuffix("or its sibling has dilation ≠ 1") == true)
}

@Test func repGhostModuleMatchesPyTorchReparameterization() throws {
    // The same block reparameterized in PyTorch (the seed's switch_to_deploy) and exported.
    let deploy = try ONNXModelLoader.load(path: ExportedBlock.directory.appendingPathComponent("repghost_module_deploy/model.onnx").path)
    let training = try ONNXModelLoader.load(path: ExportedBlock.directory.appendingPathComponent("repghost_module_torchscript/model.onnx").path)
    let fused = try fuse(training.graph).graph
    let deployFused = try fuse(deploy.graph).graph  // folds the primary conv's BN, as deployment would
    #expect(fused.nodes.map(\.opType) == deployFused.nodes.map(\.opType))
    // Same kernels up to float32 rounding of a differently ordered sum.
    for (ours, theirs) in zip(fused.nodes, deployFused.nodes) where ours.opType == "Conv" {
        let a = try #require(fused.initializers[ours.inputs[1]]).doubleValues()
        let b = try #require(deployFused.initializers[theirs.inputs[1]]).doubleValues()
        let difference = relativeDifference(a, b)
        #expect(difference <= 1e-6, "\(ours.name): relative difference \(difference)")
    }
}
