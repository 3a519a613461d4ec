import Foundation
import Testing
import TestSupport

@Test func graphDrawsFusedNodesWithWhatTheyAbsorbed() throws {
    let directory = try temporaryDirectory("cli")
    defer { try? FileManager.default.removeItem(at: directory) }
    let original = repositoryRoot.appendingPathComponent("Tests/Fixtures/blocks/repghost_module_torchscript/model.onnx").path
    let fused = directory.appendingPathComponent("block.gwt").path
    #expect(try CLI.run(["fuse", original, fused]).status == 0)
    let before = try CLI.run(["graph", original])
    #expect(before.status == 0)
    #expect(before.stdout.hasPrefix("digraph"))
    #expect(before.stdout.components(separatedBy: "BatchNormalization\\n").count - 1 == 3)
    let after = try CLI.run(["graph", fused, "--fused-from", original])
    #expect(after.status == 0)
    #expect(after.stdout.contains("fused: Conv + BatchNormalization ×2 + Add"))
    #expect(after.stdout.contains("fused: Conv + BatchNormalization\""))
    #expect(!after.stdout.contains("label=\"Add"))
    let output = directory.appendingPathComponent("graph.dot").path
    #expect(try CLI.run(["graph", fused, "--output", output]).status == 0)
    #expect(try String(contentsOfFile: output, encoding: .utf8).hasSuffix("}\n"))
}
