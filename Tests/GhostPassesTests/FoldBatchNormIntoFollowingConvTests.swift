import GhostIR
import TestSupport
@testable import GhostPasses
import Testing

@Test func preActivationBatchNormFoldsIntoAnUnpaddedGroupedConv() throws {
    var builder = TestGraphBuilder(shape: [2, 4, 7, 7])
    let bn = builder.batchNorm("BN_0", "x", channels: 4)
    builder.output(builder.conv("Conv_1", bn, out: 6, in: 2, kernel: 3, pads: [0, 0, 0, 0], strides: 2, group: 2, bias: true))
    let (after, log) = try runPass(FoldBatchNormIntoFollowingConv(), builder.graph)
    #expect(after.count("BatchNormalization") == 0 && after.count("Conv") == 1)
    #expect(after.nodes[0].inputs[0] == "x" && after.nodes[0].fusedFrom == ["BN_0", "Conv_1"])
    #expect(log.rewrites == [RewriteRecord(replaced: ["BN_0", "Conv_1"], result: "Conv_1")])
    #expect(try NaiveEvaluator.relativeDifference(builder.graph, after, shape: [2, 4, 7, 7]) <= 1e-12)
}

@Test func preActivationBatchNormFollowsTheFormula() throws {
    // s = 3/√(3+1) = 1.5, t = 0.5 − 0.25·1.5 = 0.125; 1×1 W = 2, b = 1 → W' = 3, b' = 1 + 2·0.125
    var builder = TestGraphBuilder(shape: [1, 1, 2, 2])
    for (name, value) in [("g", 3), ("b", 0.5), ("m", 0.25), ("v", 3), ("W", 2), ("B", 1)] as [(String, Float)] {
        _ = builder.constant(name, [value], shape: name == "W" ? [1, 1, 1, 1] : [1])
    }
    builder.graph.nodes.append(Node(name: "N", opType: "BatchNormalization", inputs: ["x", "g", "b", "m", "v"],
                                    outputs: ["n"], attributes: [Attribute(name: "epsilon", value: .float(1))]))
    builder.output(builder.op("Conv", "C", ["n", "W", "B"], attributes: [Attribute(name: "auto_pad", value: .string(Array("VALID".utf8)))]))
    let (after, _) = try runPass(FoldBatchNormIntoFollowingConv(), builder.graph)
    let conv = try #require(after.nodes.first)
    #expect(after.initializers[conv.inputs[1]]?.doubleValues() == [3])
    #expect(after.initializers[conv.inputs[2]]?.doubleValues() == [1.25])
}

@Test func preActivationBatchNormBeforeAPaddedConvIsRefused() throws {
    var builder = TestGraphBuilder(shape: [1, 3, 6, 6])
    let bn = builder.batchNorm("BN_0", "x", channels: 3)
    builder.output(builder.conv("Conv_1", bn, out: 3, in: 3))
    let (after, log) = try runPass(FoldBatchNormIntoFollowingConv(), builder.graph)
    #expect(after == builder.graph)
    #expect(log.skipped.map(\.code) == ["bn-before-padded-conv"])
    #expect(log.skipped.first?.nodes == ["Conv_1"])

    var same = TestGraphBuilder(shape: [1, 3, 6, 6])
    let bn2 = same.batchNorm("BN_0", "x", channels: 3)
    same.output(same.op("Conv", "Conv_1", [bn2, same.constant("W", same.random.floats(27), shape: [3, 3, 3, 1])],
                        attributes: [Attribute(name: "auto_pad", value: .string(Array("SAME_UPPER".utf8)))]))
    #expect(try runPass(FoldBatchNormIntoFollowingConv(), same.graph).1.skipped.map(\.code) == ["bn-before-padded-conv"])
}

@Test func preActivationBatchNormWithTwoReadersStays() throws {
    var builder = TestGraphBuilder(shape: [1, 3, 6, 6])
    let bn = builder.batchNorm("BN_0", "x", channels: 3)
    builder.output(builder.conv("Conv_1", bn, out: 3, in: 3, kernel: 1))
    builder.output(builder.op("Relu", "Relu_2", [bn]))
    let (_, log) = try runPass(FoldBatchNormIntoFollowingConv(), builder.graph)
    #expect(log.skipped.map(\.code) == ["output-shared"])
}

@Test func preActivationChannelMismatchIsRefused() throws {
    var builder = TestGraphBuilder(shape: [1, 3, 6, 6])
    let bn = builder.batchNorm("BN_0", "x", channels: 2)
    builder.output(builder.conv("Conv_1", bn, out: 3, in: 3, kernel: 1))
    #expect(try runPass(FoldBatchNormIntoFollowingConv(), builder.graph).1.skipped.map(\.code) == ["channel-mismatch"])
}
