import GhostIR
import TestSupport
@testable import GhostPasses
import Testing

private func affineGraph(_ op: String, constant: [Float], shape: [Int], convOnLeft: Bool = true) -> TestGraphBuilder {
    var builder = TestGraphBuilder(shape: [1, 3, 5, 5])
    let conv = builder.conv("Conv_0", "x", out: 3, in: 3, bias: true)
    let c = builder.constant("c", constant, shape: shape)
    builder.output(builder.op(op, "\(op)_1", convOnLeft ? [conv, c] : [c, conv]))
    return builder
}

@Test(arguments: [
    ("Mul", [Float(0.5), 2, -1.5], [3, 1, 1], true),
    ("Mul", [0.75, 1.25, 2], [1, 3, 1, 1], false),
    ("Add", [0.25, -1, 3], [3, 1, 1], false),
    ("Sub", [0.25, -1, 3], [3, 1, 1], true),
    ("Sub", [0.25, -1, 3], [3, 1, 1], false),
    ("Div", [0.5, 4, -2], [1, 3, 1, 1], true),
    ("Mul", [3], [], true),
    ("Add", [3], [1], true),
])
func affineFoldsIntoTheConv(op: String, values: [Float], shape: [Int], convOnLeft: Bool) throws {
    let builder = affineGraph(op, constant: values, shape: shape, convOnLeft: convOnLeft)
    let (after, log) = try runPass(FoldAffineIntoConv(), builder.graph)
    #expect(after.nodes.map(\.opType) == ["Conv"])
    #expect(after.nodes[0].outputs == ["\(op)_1.out"])
    #expect(log.rewrites.count == 1)
    #expect(try NaiveEvaluator.relativeDifference(builder.graph, after, shape: [1, 3, 5, 5]) <= 1e-12)
}

@Test func divisionByTheConvIsNotAffine() throws {
    let builder = affineGraph("Div", constant: [1, 2, 3], shape: [3, 1, 1], convOnLeft: false)
    let (after, log) = try runPass(FoldAffineIntoConv(), builder.graph)
    #expect(after == builder.graph)
    #expect(log.skipped.map(\.reason) == ["the Conv output is the divisor, which is not affine"])
    #expect(log.skipped.map(\.code) == ["conv-is-divisor"])
}

@Test func divisorWithAZeroIsRefused() throws {
    let builder = affineGraph("Div", constant: [1, 0, 3], shape: [3, 1, 1])
    let (_, log) = try runPass(FoldAffineIntoConv(), builder.graph)
    #expect(log.skipped.map(\.reason) == ["the divisor has a zero"])
    #expect(log.skipped.map(\.code) == ["divisor-has-zero"])
}

@Test func constantVaryingOverSpaceIsNotPerChannel() throws {
    let builder = affineGraph("Mul", constant: (0..<75).map { Float($0) }, shape: [3, 5, 5])
    let (after, log) = try runPass(FoldAffineIntoConv(), builder.graph)
    #expect(after.count("Mul") == 1)
    #expect(log.skipped.map(\.reason) == ["the constant's shape [3, 5, 5] is not per-channel for 3 channels"])
    #expect(log.skipped.map(\.code) == ["constant-not-per-channel"])
}
