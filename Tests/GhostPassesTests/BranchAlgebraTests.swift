import GhostIR
import Testing

@testable import GhostPasses

// Branch sums beyond plain Adds: Sub negates its right operand, a Mul by a per-channel constant
// scales what is under it, and a constant leaf joins the bias (issue 14, item 2).

/// FastViT's RepMixer, `x + γ ⊙ (BN(DWConv3×3(x)) − BN(x))`, becomes one depthwise 3×3 Conv.
@Test func repMixerBecomesOneDepthwiseConv() throws {
    var builder = TestGraphBuilder(shape: [1, 4, 6, 6])
    let mixer = builder.batchNorm("mixer.bn", builder.conv("mixer.conv", "x", out: 4, in: 1, group: 4), channels: 4)
    let norm = builder.batchNorm("norm.bn", "x", channels: 4)
    let difference = builder.op("Sub", "Sub_0", [mixer, norm])
    let gamma = builder.constant("gamma", [0.3, -0.7, 1.1, 0.05], shape: [4, 1, 1])
    let scaled = builder.op("Mul", "Mul_0", [difference, gamma])
    builder.output(builder.op("Add", "Add_0", ["x", scaled]))
    let result = try fuse(builder.graph)
    #expect(result.graph.nodes.map(\.opType) == ["Conv"])
    #expect(result.graph.nodes[0].attribute("group")?.intValue == 4)
    #expect(Set(result.graph.nodes[0].fusedFrom) == ["mixer.conv", "mixer.bn", "norm.bn", "Sub_0", "Mul_0", "Add_0"])
    #expect(try NaiveEvaluator.relativeDifference(builder.graph, result.graph, shape: [1, 4, 6, 6]) <= 1e-12)
}

/// `Conv3×3(x) − Conv1×1(x)`: the right branch's kernel and bias are negated.
@Test func subtractionNegatesTheRightBranch() throws {
    var builder = TestGraphBuilder(shape: [1, 3, 5, 5])
    let a = builder.conv("a", "x", out: 3, in: 3, bias: true)
    let b = builder.conv("b", "x", out: 3, in: 3, kernel: 1, bias: true)
    builder.output(builder.op("Sub", "Sub_0", [a, b]))
    let result = try fuse(builder.graph)
    #expect(result.graph.nodes.map(\.opType) == ["Conv"])
    #expect(try NaiveEvaluator.relativeDifference(builder.graph, result.graph, shape: [1, 3, 5, 5]) <= 1e-12)
}

/// Nested signs: `a − (b − c)` keeps c positive.
@Test func nestedSubtractionsCompose() throws {
    var builder = TestGraphBuilder(shape: [1, 2, 5, 5])
    let a = builder.conv("a", "x", out: 2, in: 2, bias: true)
    let b = builder.conv("b", "x", out: 2, in: 2, bias: true)
    let c = builder.conv("c", "x", out: 2, in: 2, kernel: 1, bias: true)
    builder.output(builder.op("Sub", "Sub_1", [a, builder.op("Sub", "Sub_0", [b, c])]))
    let sum = try #require(BranchSum.find(in: GraphIndex(builder.graph)).first)
    #expect(sum.leaves.map(\.sign) == [1, -1, 1])
    let result = try fuse(builder.graph)
    #expect(result.graph.nodes.map(\.opType) == ["Conv"])
    #expect(try NaiveEvaluator.relativeDifference(builder.graph, result.graph, shape: [1, 2, 5, 5]) <= 1e-12)
}

/// A zero the exporter leaves for an absent branch (`0 + Conv(x)`, then `+ Conv1×1(x)`) and a
/// non-zero per-channel constant both join the bias.
@Test func constantOperandsJoinTheBias() throws {
    for values: [Float] in [[0], [0.5, -1.5, 2.0]] {
        var builder = TestGraphBuilder(shape: [1, 3, 5, 5])
        let zero = builder.constant("k", values, shape: values.count == 1 ? [] : [1, 3, 1, 1])
        let a = builder.conv("a", "x", out: 3, in: 3, bias: true)
        let partial = builder.op("Add", "Add_0", [zero, a])
        let b = builder.conv("b", "x", out: 3, in: 3, kernel: 1)
        builder.output(builder.op("Add", "Add_1", [partial, b]))
        let result = try fuse(builder.graph)
        #expect(result.graph.nodes.map(\.opType) == ["Conv"], "constant \(values)")
        #expect(try NaiveEvaluator.relativeDifference(builder.graph, result.graph, shape: [1, 3, 5, 5]) <= 1e-12)
    }
}

/// A layer scale on one Conv branch of a RepVGG-style sum with an identity BN.
@Test func scaledBranchIsMerged() throws {
    var builder = TestGraphBuilder(shape: [1, 3, 5, 5])
    let a = builder.conv("a", "x", out: 3, in: 3, bias: true)
    let gamma = builder.constant("gamma", [2, -0.5, 0.25], shape: [1, 3, 1, 1])
    let scaledA = builder.op("Mul", "Mul_0", [gamma, a])
    let identity = builder.batchNorm("id.bn", "x", channels: 3)
    let b = builder.batchNorm("b.bn", builder.conv("b", "x", out: 3, in: 3, kernel: 1), channels: 3)
    builder.output(builder.op("Add", "Add_1", [builder.op("Add", "Add_0", [scaledA, identity]), b]))
    let result = try fuse(builder.graph)
    #expect(result.graph.nodes.map(\.opType) == ["Conv"])
    #expect(try NaiveEvaluator.relativeDifference(builder.graph, result.graph, shape: [1, 3, 5, 5]) <= 1e-12)
}

/// A scale that varies over space is not a per-channel coefficient: the sum stays, with the code.
@Test func spatialScaleIsRefused() throws {
    var builder = TestGraphBuilder(shape: [1, 2, 3, 3])
    let a = builder.conv("a", "x", out: 2, in: 2)
    let b = builder.conv("b", "x", out: 2, in: 2, kernel: 1)
    let mask = builder.constant("mask", (0..<18).map { Float($0) / 10 }, shape: [1, 2, 3, 3])
    builder.output(builder.op("Add", "Add_0", [a, builder.op("Mul", "Mul_0", [b, mask])]))
    let result = try fuse(builder.graph)
    #expect(result.graph.count("Add") == 1)
    #expect(result.report("merge-parallel-convs")?.skipped.map(\.code) == ["constant-not-per-channel"])
    #expect(try NaiveEvaluator.relativeDifference(builder.graph, result.graph, shape: [1, 2, 3, 3]) <= 1e-12)
}

/// A Mul by another computed value is a foreign leaf, never a coefficient: the clean sub-tree
/// beside it merges, the product stays.
@Test func productOfBranchesIsNotLinear() throws {
    var builder = TestGraphBuilder(shape: [1, 2, 4, 4])
    let a = builder.conv("a", "x", out: 2, in: 2)
    let d = builder.conv("d", "x", out: 2, in: 2, kernel: 1)
    let b = builder.conv("b", "x", out: 2, in: 2, kernel: 1)
    let c = builder.conv("c", "x", out: 2, in: 2)
    let clean = builder.op("Add", "Add_0", [a, d])
    builder.output(builder.op("Add", "Add_1", [clean, builder.op("Mul", "Mul_0", [b, c])]))
    let sums = BranchSum.find(in: GraphIndex(builder.graph))
    #expect(sums.map(\.tree.count) == [1])
    let result = try fuse(builder.graph)
    #expect(result.graph.count("Conv") == 3)
    #expect(result.graph.count("Mul") == 1)
    #expect(result.graph.count("Add") == 1)
    #expect(try NaiveEvaluator.relativeDifference(builder.graph, result.graph, shape: [1, 2, 4, 4]) <= 1e-12)
}
