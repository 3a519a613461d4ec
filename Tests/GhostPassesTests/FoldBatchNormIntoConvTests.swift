import GhostIR
import TestSupport
@testable import GhostPasses
import Testing

@Test func foldsBatchNormIntoGroupedConv() throws {
    var builder = TestGraphBuilder(shape: [2, 4, 6, 6])
    let conv = builder.conv("Conv_0", "x", out: 4, in: 2, group: 2, bias: true)
    builder.output(builder.batchNorm("BN_1", conv, channels: 4))
    let (after, log) = try runPass(FoldBatchNormIntoConv(), builder.graph)
    #expect(after.count("BatchNormalization") == 0)
    #expect(after.count("Conv") == 1)
    #expect(after.nodes[0].outputs == ["BN_1.out"])
    #expect(after.nodes[0].fusedFrom == ["Conv_0", "BN_1"])
    #expect(log.rewrites == [RewriteRecord(replaced: ["Conv_0", "BN_1"], result: "Conv_0")])
    #expect(try NaiveEvaluator.relativeDifference(builder.graph, after, shape: [2, 4, 6, 6]) <= 1e-12)
}

@Test func foldedValuesFollowTheFormula() throws {
    // 1×1 conv, one channel: W=2, b=1; γ=3, β=0.5, μ=0.25, σ²=3, ε=1 → s = 3/√4 = 1.5
    // W' = 3, b' = (1 − 0.25)·1.5 + 0.5 = 1.625
    var builder = TestGraphBuilder(shape: [1, 1, 2, 2])
    _ = builder.constant("W", [2], shape: [1, 1, 1, 1])
    _ = builder.constant("B", [1], shape: [1])
    for (name, value) in [("g", 3), ("b", 0.5), ("m", 0.25), ("v", 3)] as [(String, Float)] {
        _ = builder.constant(name, [value], shape: [1])
    }
    _ = builder.op("Conv", "C", ["x", "W", "B"])
    builder.graph.nodes.append(Node(name: "N", opType: "BatchNormalization", inputs: ["C.out", "g", "b", "m", "v"],
                                    outputs: ["y"], attributes: [Attribute(name: "epsilon", value: .float(1))]))
    builder.output("y")
    let (after, _) = try runPass(FoldBatchNormIntoConv(), builder.graph)
    let conv = try #require(after.nodes.first)
    #expect(after.initializers[conv.inputs[1]]?.doubleValues() == [3])
    #expect(after.initializers[conv.inputs[2]]?.doubleValues() == [1.625])
}

@Test func float32WeightsAreRoundedOnceFromFloat64() throws {
    var builder = TestGraphBuilder(shape: [1, 3, 5, 5], elementType: .float32)
    let conv = builder.conv("Conv_0", "x", out: 3, in: 3)
    builder.output(builder.batchNorm("BN_1", conv, channels: 3))
    let (after, _) = try runPass(FoldBatchNormIntoConv(), builder.graph)
    let weight = try #require(after.initializers[after.nodes[0].inputs[1]])
    #expect(weight.elementType == .float32)
    // Recompute in Float64 from the original constants and round once: bit-identical.
    let original = builder.graph.initializers
    let w = original["Conv_0.W"]!.doubleValues(), g = original["BN_1.gamma"]!.doubleValues()
    let v = original["BN_1.var"]!.doubleValues()
    let expected = w.enumerated().map { index, value in Float(value * g[index / 27] / (v[index / 27] + Double(Float(1e-5))).squareRoot()) }
    #expect(weight.elements(as: Float.self) == expected)
}

@Test func secondConsumerPreventsFolding() throws {
    var builder = TestGraphBuilder(shape: [1, 2, 4, 4])
    let conv = builder.conv("Conv_12", "x", out: 2, in: 2)
    let bn = builder.batchNorm("BN_13", conv, channels: 2)
    builder.output(builder.op("Concat", "Concat_40", [bn, conv], attributes: [Attribute(name: "axis", value: .int(1))]))
    let (after, log) = try runPass(FoldBatchNormIntoConv(), builder.graph)
    #expect(after == builder.graph)
    #expect(log.skipped == [SkippedSite(node: "BN_13", code: "output-shared", status: "condition-failed", waitsFor: nil,
                                        nodes: ["BN_13", "Concat_40"], reason: "Conv_12 output also feeds BN_13, Concat_40")])
}

@Test func trainingModeIsRefused() throws {
    var builder = TestGraphBuilder(shape: [1, 2, 4, 4])
    let conv = builder.conv("Conv_0", "x", out: 2, in: 2)
    builder.output(builder.batchNorm("BN_1", conv, channels: 2, attributes: [Attribute(name: "training_mode", value: .int(1))]))
    let (after, log) = try runPass(FoldBatchNormIntoConv(), builder.graph)
    #expect(after.count("BatchNormalization") == 1)
    #expect(log.skipped.first?.reason.contains("training_mode=1") == true)
    #expect(log.skipped.map(\.code) == ["bn-training-mode"])
}

@Test func convOutputThatIsAGraphOutputIsKept() throws {
    var builder = TestGraphBuilder(shape: [1, 2, 4, 4])
    let conv = builder.conv("Conv_0", "x", out: 2, in: 2)
    builder.output(builder.batchNorm("BN_1", conv, channels: 2))
    builder.output(conv)
    let (after, log) = try runPass(FoldBatchNormIntoConv(), builder.graph)
    #expect(after.count("BatchNormalization") == 1)
    #expect(log.skipped.first?.reason == "Conv_0 output 'Conv_0.out' is also a graph output")
    #expect(log.skipped.map(\.code) == ["output-is-graph-output"])
}

@Test func nonConstantWeightIsSkipped() throws {
    var builder = TestGraphBuilder(shape: [1, 2, 4, 4])
    builder.graph.inputs.append(Value(name: "dynamicW", elementType: .float64, shape: [.fixed(2), .fixed(2), .fixed(1), .fixed(1)]))
    let conv = builder.op("Conv", "Conv_0", ["x", "dynamicW"])
    builder.output(builder.batchNorm("BN_1", conv, channels: 2))
    let (_, log) = try runPass(FoldBatchNormIntoConv(), builder.graph)
    #expect(log.skipped.first?.reason == "Conv weight 'dynamicW' is not a constant")
    #expect(log.skipped.map(\.code) == ["conv-weight-not-constant"])
}

@Test func channelMismatchIsSkipped() throws {
    var builder = TestGraphBuilder(shape: [1, 2, 4, 4])
    let conv = builder.conv("Conv_0", "x", out: 2, in: 2)
    builder.output(builder.batchNorm("BN_1", conv, channels: 3))
    let (_, log) = try runPass(FoldBatchNormIntoConv(), builder.graph)
    #expect(log.skipped.first?.reason == "BatchNormalization has 3 channels, the Conv 2 outputs")
    #expect(log.skipped.map(\.code) == ["channel-mismatch"])
}

@Test func naiveComparisonFailsOnANonFiniteValueTheOriginalDoesNotHave() throws {
    var builder = TestGraphBuilder(shape: [1, 2, 4, 4])
    builder.output(builder.conv("Conv_0", "x", out: 2, in: 2, bias: true))
    #expect(try NaiveEvaluator.relativeDifference(builder.graph, builder.graph, shape: [1, 2, 4, 4]) == 0)
    for special in [Double.nan, .infinity] {
        var broken = builder.graph
        var bias = try #require(broken.initializers["Conv_0.B"]).doubleValues()
        bias[1] = special  // one channel of the output becomes NaN (or +inf), the other stays finite
        broken.initializers["Conv_0.B"] = try Tensor(float64: bias, shape: [2])
        #expect(try NaiveEvaluator.relativeDifference(builder.graph, broken, shape: [1, 2, 4, 4]) == .infinity)
    }
}
