import GhostIR
import TestSupport
@testable import GhostPasses
import Testing

/// RepGhost's fusion block (seed: `x2 = BN(dwconv3x3(x1)) + BN(x1)`, then ReLU).
private func repGhostBlock(channels: Int = 4) -> TestGraphBuilder {
    var builder = TestGraphBuilder(shape: [1, channels, 6, 6])
    let dw = builder.conv("cheap.conv", "x", out: channels, in: 1, group: channels)
    let cheap = builder.batchNorm("cheap.bn", dw, channels: channels)
    let fusion = builder.batchNorm("fusion_bn", "x", channels: channels)
    let sum = builder.op("Add", "Add_0", [cheap, fusion])
    builder.output(builder.op("Relu", "Relu_0", [sum]))
    return builder
}

@Test func repGhostBlockBecomesOneDepthwiseConv() throws {
    let builder = repGhostBlock()
    let result = try fuse(builder.graph)
    #expect(result.graph.nodes.map(\.opType) == ["Conv", "Relu"])
    let conv = result.graph.nodes[0]
    #expect(conv.attribute("group")?.intValue == 4)
    #expect(conv.attribute("kernel_shape")?.intsValue == [3, 3])
    #expect(conv.attribute("pads")?.intsValue == [1, 1, 1, 1])
    #expect(Set(conv.fusedFrom) == ["cheap.conv", "cheap.bn", "fusion_bn", "Add_0"])
    #expect(result.report("batchnorm-to-depthwise-conv")?.rewrites.count == 1)
    #expect(result.report("pad-kernel-to-3x3")?.rewrites.count == 1)
    #expect(result.report("merge-parallel-convs")?.rewrites.count == 1)
    #expect(try NaiveEvaluator.relativeDifference(builder.graph, result.graph, shape: [1, 4, 6, 6]) <= 1e-12)
    // Only the merged kernel and bias remain.
    #expect(result.graph.initializers.count == 2)
}

/// A RepVGG block on [2, 4, 5, 5]: BN(Conv3×3) + BN(Conv1×1) + BN(x), then Relu.
func repVGGBlockWithIdentity(group: Int) -> TestGraphBuilder {
    var builder = TestGraphBuilder(shape: [2, 4, 5, 5], seed: UInt64(group))
    let a = builder.batchNorm("a.bn", builder.conv("a.conv", "x", out: 4, in: 4 / group, group: group), channels: 4)
    let b = builder.batchNorm("b.bn", builder.conv("b.conv", "x", out: 4, in: 4 / group, kernel: 1, group: group), channels: 4)
    let identity = builder.batchNorm("id.bn", "x", channels: 4)
    builder.output(builder.op("Relu", "Relu", [builder.op("Add", "Add_1", [builder.op("Add", "Add_0", [a, b]), identity])]))
    return builder
}

@Test func repVGGBlockWithIdentityMergesThreeWays() throws {
    for group in [1, 2] {
        let builder = repVGGBlockWithIdentity(group: group)
        let result = try fuse(builder.graph)
        #expect(result.graph.nodes.map(\.opType) == ["Conv", "Relu"], "group \(group)")
        #expect(try NaiveEvaluator.relativeDifference(builder.graph, result.graph, shape: [2, 4, 5, 5]) <= 1e-12)
    }
}

@Test func mobileOneStyleKWayWithBareIdentity() throws {
    // Three 3×3 branches, a 1×1 scale branch, a BN identity and the input itself added.
    var builder = TestGraphBuilder(shape: [1, 3, 7, 7])
    var operands = (0..<3).map { index in
        builder.batchNorm("k\(index).bn", builder.conv("k\(index).conv", "x", out: 3, in: 3, bias: index == 1), channels: 3)
    }
    operands.append(builder.batchNorm("scale.bn", builder.conv("scale.conv", "x", out: 3, in: 3, kernel: 1), channels: 3))
    operands.append(builder.batchNorm("skip.bn", "x", channels: 3))
    operands.append("x")
    var sum = operands[0]
    for (index, operand) in operands.dropFirst().enumerated() { sum = builder.op("Add", "Add_\(index)", [sum, operand]) }
    builder.output(sum)
    let result = try fuse(builder.graph)
    #expect(result.graph.nodes.map(\.opType) == ["Conv"])
    #expect(try NaiveEvaluator.relativeDifference(builder.graph, result.graph, shape: [1, 3, 7, 7]) <= 1e-12)
}

@Test func strideTwoBranchesMergeWithoutIdentity() throws {
    var builder = TestGraphBuilder(shape: [1, 2, 8, 8])
    let a = builder.conv("a", "x", out: 4, in: 2, strides: 2, bias: true)
    let b = builder.conv("b", "x", out: 4, in: 2, kernel: 1, pads: [0, 0, 0, 0], strides: 2)
    builder.output(builder.op("Add", "Add_0", [a, b]))
    let result = try fuse(builder.graph)
    #expect(result.graph.nodes.map(\.opType) == ["Conv"])
    #expect(try NaiveEvaluator.relativeDifference(builder.graph, result.graph, shape: [1, 2, 8, 8]) <= 1e-12)
}

@Test func asymmetricPadsAlignWhenCentred() throws {
    // A 1×1 branch with pads [0,1,0,1]… no: a 3×3 branch padded [1,1,2,2] and a 1×1 branch
    // padded [0,0,1,1] line up (P − p = 1 on every side).
    var builder = TestGraphBuilder(shape: [1, 2, 6, 6])
    let a = builder.conv("a", "x", out: 2, in: 2, pads: [1, 1, 2, 2])
    let b = builder.conv("b", "x", out: 2, in: 2, kernel: 1, pads: [0, 0, 1, 1])
    builder.output(builder.op("Add", "Add_0", [a, b]))
    let result = try fuse(builder.graph)
    #expect(result.graph.nodes.map(\.opType) == ["Conv"])
    #expect(result.graph.nodes[0].attribute("pads")?.intsValue == [1, 1, 2, 2])
    #expect(try NaiveEvaluator.relativeDifference(builder.graph, result.graph, shape: [1, 2, 6, 6]) <= 1e-12)
}

// MARK: - Sites that must not merge, and the reason they give

private func skipReason(_ graph: Graph, pass: String = "merge-parallel-convs") throws -> [String] {
    let result = try fuse(graph)
    #expect(result.graph.count("Add") >= 1, "the sum must survive")
    return result.report(pass)?.skipped.map(\.reason) ?? []
}

@Test func differentStridesDoNotMerge() throws {
    var builder = TestGraphBuilder(shape: [1, 2, 8, 8])
    let a = builder.conv("a", "x", out: 2, in: 2, strides: 2)
    let b = builder.conv("b", "x", out: 2, in: 2, kernel: 1, pads: [0, 0, 0, 0])
    builder.output(builder.op("Add", "Add_0", [a, b]))
    #expect(try skipReason(builder.graph) == ["b has strides [1, 1], the largest branch [2, 2]"])
}

@Test func dilationDoesNotMerge() throws {
    var builder = TestGraphBuilder(shape: [1, 2, 8, 8])
    let a = builder.conv("a", "x", out: 2, in: 2, dilation: 2)
    let b = builder.conv("b", "x", out: 2, in: 2, dilation: 2)
    builder.output(builder.op("Add", "Add_0", [a, b]))
    #expect(try skipReason(builder.graph) == ["a or its sibling has dilation ≠ 1"])
}

@Test func mismatchedGroupsDoNotMerge() throws {
    var builder = TestGraphBuilder(shape: [1, 4, 6, 6])
    let a = builder.conv("a", "x", out: 4, in: 1, group: 4)
    let b = builder.conv("b", "x", out: 4, in: 4, kernel: 1, pads: [0, 0, 0, 0])
    builder.output(builder.op("Add", "Add_0", [a, b]))
    #expect(try skipReason(builder.graph) == ["b has group=1, its sibling group=4"])
}

@Test func misalignedPadsDoNotMerge() throws {
    var builder = TestGraphBuilder(shape: [1, 2, 6, 6])
    let a = builder.conv("a", "x", out: 2, in: 2, pads: [1, 1, 1, 1])
    let b = builder.conv("b", "x", out: 2, in: 2, kernel: 1, pads: [1, 1, 1, 1])
    builder.output(builder.op("Add", "Add_0", [a, b]))
    let reasons = try skipReason(builder.graph)
    #expect(reasons.count == 1)
    #expect(reasons.first?.hasPrefix("b has pads [1, 1, 1, 1] but a [1, 1] kernel centred in [3, 3]") == true)
}

@Test func branchWithASecondConsumerDoesNotMerge() throws {
    var builder = TestGraphBuilder(shape: [1, 2, 6, 6])
    let a = builder.conv("a", "x", out: 2, in: 2)
    let b = builder.conv("b", "x", out: 2, in: 2)
    builder.output(builder.op("Add", "Add_0", [a, b]))
    builder.output(builder.op("Relu", "Side", [b]))
    #expect(try skipReason(builder.graph) == ["b output also feeds Side"])
}

@Test func branchesOnDifferentInputsAreNotASite() throws {
    var builder = TestGraphBuilder(shape: [1, 2, 6, 6])
    let r = builder.op("Relu", "R", ["x"])
    let a = builder.conv("a", "x", out: 2, in: 2)
    let b = builder.conv("b", r, out: 2, in: 2)
    builder.output(builder.op("Add", "Add_0", [a, b]))
    let result = try fuse(builder.graph)
    #expect(result.graph.count("Add") == 1)
    #expect(result.graph.count("Conv") == 2)
    #expect(result.reports.allSatisfy { $0.skipped.isEmpty })
}

@Test func identityBranchBesideStrideTwoIsRefused() throws {
    var builder = TestGraphBuilder(shape: [1, 2, 6, 6])
    let a = builder.conv("a", "x", out: 2, in: 2, strides: 2)
    builder.output(builder.op("Add", "Add_0", [a, builder.batchNorm("id", "x", channels: 2)]))
    #expect(try skipReason(builder.graph, pass: "batchnorm-to-depthwise-conv") == ["the identity branch has strides [1, 1], the largest branch [2, 2]"])
}

@Test func blockInsideAResidualSumStillMerges() throws {
    // RepGhost bottleneck: y = shortcut(z) + (BN(DWConv(x1)) + BN(x1)), x1 = BN(Conv(z)).
    // The outer Add's tree has a foreign leaf (the shortcut); its inner sum is the site.
    var builder = TestGraphBuilder(shape: [1, 4, 6, 6])
    let x1 = builder.batchNorm("primary.bn", builder.conv("primary.conv", "x", out: 4, in: 4, kernel: 1), channels: 4)
    let cheap = builder.batchNorm("cheap.bn", builder.conv("cheap.conv", x1, out: 4, in: 1, group: 4), channels: 4)
    let inner = builder.op("Add", "Add_inner", [cheap, builder.batchNorm("fusion_bn", x1, channels: 4)])
    let shortcut = builder.conv("shortcut", "x", out: 4, in: 4, kernel: 1, pads: [0, 0, 0, 0])
    builder.output(builder.op("Add", "Add_residual", [shortcut, inner]))
    let result = try fuse(builder.graph)
    #expect(result.graph.nodes.map(\.opType) == ["Conv", "Conv", "Conv", "Add"])
    // The primary 1×1 (bias from its BN) before the padded depthwise 3×3 is refused as a
    // sequential merge: its bias would reach the border.
    #expect(result.reports.allSatisfy { $0.skipped.isEmpty || ["fold-batchnorm-into-conv", "merge-sequential-convs"].contains($0.pass) })
    #expect(result.report("merge-sequential-convs")?.skipped.map(\.code) == ["sequential-bias-under-padding"])
    #expect(result.report("merge-parallel-convs")?.rewrites.count == 1)
    #expect(try NaiveEvaluator.relativeDifference(builder.graph, result.graph, shape: [1, 4, 6, 6]) <= 1e-12)
}

/// A RepVGG block's fold, pad and merge leave one kernel whose values are computed once, when
/// first read, from the original weights: the folded and padded kernels in between are never
/// made, and a float32 kernel is rounded once for the whole chain.
@Test func mergedKernelIsComputedOnceFromTheOriginalWeights() throws {
    var builder = TestGraphBuilder(shape: [1, 4, 5, 5], seed: 5, elementType: .float32)
    let a = builder.batchNorm("a.bn", builder.conv("a.conv", "x", out: 4, in: 4), channels: 4)
    let b = builder.batchNorm("b.bn", builder.conv("b.conv", "x", out: 4, in: 4, kernel: 1), channels: 4)
    let identity = builder.batchNorm("id.bn", "x", channels: 4)
    builder.output(builder.op("Relu", "Relu", [builder.op("Add", "Add_1", [builder.op("Add", "Add_0", [a, b]), identity])]))
    let originals = builder.graph.initializers.map(\.tensor.storage)
    let result = try fuse(builder.graph)
    #expect(result.graph.nodes.map(\.opType) == ["Conv", "Relu"])
    let weight = try #require(result.graph.initializers[result.graph.nodes[0].inputs[1]])
    #expect(!weight.storage.isComputed)
    let recipe = try #require(weight.storage.recipe as? ConvWeights)
    // Three terms: the 3×3 and 1×1 kernels as loaded (the very storage), and the identity.
    #expect(recipe.terms.count == 3)
    var sources = 0
    for term in recipe.terms {
        if case .tensor(let tensor) = term.source {
            #expect(originals.contains { $0 === tensor.storage })
            sources += 1
        }
    }
    #expect(sources == 2)
    #expect(recipe.terms.map(\.spatial).sorted { $0[0] < $1[0] } == [[1, 1], [1, 1], [3, 3]])
    // Reading computes the values (and lets the recipe go); they match the original graph.
    _ = weight.elements(as: Float.self)
    #expect(weight.storage.isComputed)
    #expect(weight.storage.recipe == nil)
    #expect(try NaiveEvaluator.relativeDifference(builder.graph, result.graph, shape: [1, 4, 5, 5]) <= 1e-6)
}
