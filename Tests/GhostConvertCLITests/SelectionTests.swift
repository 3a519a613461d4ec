import Foundation
import GhostIR
import GhostONNX
import Testing
import TestSupport

/// x·w → TopK(k = 1): `w` and a copy of it 1e-9 apart relative, on an input with a near tie, so
/// the two graphs select different elements though they compute the same function within 1e-5.
private func selectionGraph(weight: Double) throws -> Graph {
    var initializers = InitializerTable()
    initializers["w"] = try Tensor(float32: [1, Float(weight)], shape: [2])
    initializers["k"] = try Tensor(int64: [1], shape: [1])
    return Graph(
        name: "select",
        inputs: [Value(name: "x", elementType: .float32, shape: [.fixed(1), .fixed(2)])],
        outputs: [Value(name: "values", elementType: .float32), Value(name: "indices", elementType: .int64)],
        initializers: initializers,
        nodes: [Node(name: "scale", opType: "Mul", inputs: ["x", "w"], outputs: ["scores"]),
                Node(name: "select", opType: "TopK", inputs: ["scores", "k"], outputs: ["values", "indices"])],
        opsetImports: [OpsetImport(domain: "", version: 17)])
}

@Test func divergenceAtASelectionIsNamedAndCompareChecksTheScores() throws {
    let directory = try temporaryDirectory("cli")
    defer { try? FileManager.default.removeItem(at: directory) }
    let original = directory.appendingPathComponent("a.onnx").path, fused = directory.appendingPathComponent("b.onnx").path
    // Scores [1, 1 − 2⁻²³] (original) and [1, 1 + 2⁻²³] (fused): TopK picks index 0, then index 1.
    try ONNXWriter.write(try selectionGraph(weight: 1 - 0x1p-23), to: original)
    try ONNXWriter.write(try selectionGraph(weight: 1 + 0x1p-23), to: fused)
    let input = directory.appendingPathComponent("x.npy").path
    try CLI.writeNPY(float32: [1, 1], shape: [1, 2], to: input)
    let plain = try CLI.run(["verify", original, fused, "--input", input])
    #expect(plain.status == 3, "\(plain.stderr)")
    #expect(plain.stderr.contains("data-dependent selection (TopK 'select')"), "\(plain.stderr)")
    let scores = try CLI.run(["verify", original, fused, "--input", input, "--compare", "scores"])
    #expect(scores.status == 0, "\(scores.stderr)")
    #expect(scores.stderr.contains("equivalent"))
    let unknown = try CLI.run(["verify", original, fused, "--input", input, "--compare", "nothing"])
    #expect(unknown.status == 2)
    #expect(unknown.stderr.contains("[unknown-value]"), "\(unknown.stderr)")
}
