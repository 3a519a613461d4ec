import GhostIR
import TestSupport
@testable import GhostPasses
import Testing

private func attributes(kernel: Int, pads: [Int], strides: Int = 1, group: Int = 1) -> [Attribute] {
    [Attribute(name: "kernel_shape", value: .ints([Int64(kernel), Int64(kernel)])),
     Attribute(name: "pads", value: .ints(pads.map(Int64.init))),
     Attribute(name: "strides", value: .ints([Int64(strides), Int64(strides)])),
     Attribute(name: "group", value: .int(Int64(group)))]
}

private func averagePool(_ builder: inout TestGraphBuilder, _ name: String, _ input: String, kernel: Int, pads: Int,
                         stride: Int = 1, includePad: Int = 1, extra: [Attribute] = []) -> String {
    builder.op("AveragePool", name, [input], attributes: [
        Attribute(name: "kernel_shape", value: .ints([Int64(kernel), Int64(kernel)])),
        Attribute(name: "pads", value: .ints(Array(repeating: Int64(pads), count: 4))),
        Attribute(name: "strides", value: .ints([Int64(stride), Int64(stride)])),
        Attribute(name: "count_include_pad", value: .int(Int64(includePad))),
    ] + extra)
}

private func skipCodes(_ log: PassLog) -> [String] { log.skipped.map(\.code) }

@Test func spatialConvThenPointwiseBecomesOneConv() throws {
    // 3×3 stride 2 (6 → 8 channels, bias) then 1×1 (8 → 5, bias): one 3×3 stride 2, 6 → 5.
    var builder = TestGraphBuilder(shape: [2, 6, 9, 9])
    let a = builder.conv("Conv_a", "x", out: 8, in: 6, strides: 2, bias: true)
    builder.output(builder.conv("Conv_b", a, out: 5, in: 8, kernel: 1, bias: true))
    let (after, log) = try runPass(MergeSequentialConvs(), builder.graph)
    #expect(after.count("Conv") == 1)
    let conv = try #require(after.nodes.first)
    #expect(after.initializers[conv.inputs[1]]?.shape == [5, 6, 3, 3])
    #expect(conv.attribute("strides")?.intsValue == [2, 2])
    #expect(conv.outputs == ["Conv_b.out"] && conv.fusedFrom == ["Conv_a", "Conv_b"])
    #expect(log.rewrites == [RewriteRecord(replaced: ["Conv_a", "Conv_b"], result: "Conv_a")])
    #expect(try NaiveEvaluator.relativeDifference(builder.graph, after, shape: [2, 6, 9, 9]) <= 1e-12)
}

@Test func groupedSpatialThenGroupedPointwiseKeepsGroups() throws {
    var builder = TestGraphBuilder(shape: [1, 4, 7, 7])
    let a = builder.conv("Conv_a", "x", out: 8, in: 2, group: 2, bias: true)
    builder.output(builder.conv("Conv_b", a, out: 6, in: 4, kernel: 1, group: 2, bias: true))
    let (after, _) = try runPass(MergeSequentialConvs(), builder.graph)
    let conv = try #require(after.nodes.first)
    #expect(after.count("Conv") == 1 && conv.attribute("group")?.intValue == 2)
    #expect(after.initializers[conv.inputs[1]]?.shape == [6, 2, 3, 3])
    #expect(try NaiveEvaluator.relativeDifference(builder.graph, after, shape: [1, 4, 7, 7]) <= 1e-12)
}

@Test func pointwiseWithoutBiasThenPaddedKernelFollowsTheFormula() throws {
    // 1×1 W1 = 2 (no bias), then 3×3 of ones with pad 1 and bias 0.5: W = 2·ones, b = 0.5.
    var builder = TestGraphBuilder(shape: [1, 1, 4, 4])
    _ = builder.constant("W1", [2], shape: [1, 1, 1, 1])
    _ = builder.constant("W2", Array(repeating: 1, count: 9), shape: [1, 1, 3, 3])
    _ = builder.constant("B2", [0.5], shape: [1])
    let a = builder.op("Conv", "A", ["x", "W1"])
    builder.output(builder.op("Conv", "B", [a, "W2", "B2"], attributes: attributes(kernel: 3, pads: [1, 1, 1, 1])))
    let (after, _) = try runPass(MergeSequentialConvs(), builder.graph)
    let conv = try #require(after.nodes.first)
    #expect(after.initializers[conv.inputs[1]]?.doubleValues() == Array(repeating: 2, count: 9))
    #expect(after.initializers[conv.inputs[2]]?.doubleValues() == [0.5])
    #expect(conv.attribute("pads")?.intsValue == [1, 1, 1, 1])
    #expect(try NaiveEvaluator.relativeDifference(builder.graph, after, shape: [1, 1, 4, 4]) <= 1e-12)
}

@Test func pointwiseBiasWithoutPaddingGoesThroughTheKernelSum() throws {
    // b = b2 + ΣW2 · b1 = 0.5 + 9·1 · 3 = 27.5
    var builder = TestGraphBuilder(shape: [1, 1, 5, 5])
    _ = builder.constant("W1", [2], shape: [1, 1, 1, 1])
    _ = builder.constant("B1", [3], shape: [1])
    _ = builder.constant("W2", Array(repeating: 1, count: 9), shape: [1, 1, 3, 3])
    _ = builder.constant("B2", [0.5], shape: [1])
    let a = builder.op("Conv", "A", ["x", "W1", "B1"])
    builder.output(builder.op("Conv", "B", [a, "W2", "B2"], attributes: attributes(kernel: 3, pads: [0, 0, 0, 0])))
    let (after, _) = try runPass(MergeSequentialConvs(), builder.graph)
    #expect(after.initializers[after.nodes[0].inputs[2]]?.doubleValues() == [27.5])
    #expect(try NaiveEvaluator.relativeDifference(builder.graph, after, shape: [1, 1, 5, 5]) <= 1e-12)
}

@Test func pointwiseBiasUnderZeroPaddingIsRefused() throws {
    var builder = TestGraphBuilder(shape: [1, 3, 6, 6])
    let a = builder.conv("Conv_a", "x", out: 4, in: 3, kernel: 1, bias: true)
    builder.output(builder.conv("Conv_b", a, out: 4, in: 4, kernel: 3, bias: true))
    let (after, log) = try runPass(MergeSequentialConvs(), builder.graph)
    #expect(after == builder.graph)
    #expect(skipCodes(log) == ["sequential-bias-under-padding"])
    #expect(log.skipped.first?.reason.contains("bias") == true)
}

@Test func stridedPointwiseThenUnpaddedKernelDilates() throws {
    // 1×1 stride 2 with pads 1, then 3×3 stride 1 no pad: a 3×3 with dilation 2, stride 2.
    var builder = TestGraphBuilder(shape: [1, 3, 11, 11])
    let a = builder.conv("Conv_a", "x", out: 4, in: 3, kernel: 1, pads: [1, 1, 1, 1], strides: 2, bias: true)
    builder.output(builder.conv("Conv_b", a, out: 4, in: 4, kernel: 3, pads: [0, 0, 0, 0], bias: true))
    let (after, _) = try runPass(MergeSequentialConvs(), builder.graph)
    let conv = try #require(after.nodes.first)
    #expect(after.count("Conv") == 1)
    #expect(conv.attribute("dilations")?.intsValue == [2, 2] && conv.attribute("strides")?.intsValue == [2, 2])
    #expect(try NaiveEvaluator.relativeDifference(builder.graph, after, shape: [1, 3, 11, 11]) <= 1e-12)
}

@Test func averagePoolAfterPointwiseBecomesAKernel() throws {
    // DBB's 1×1 → AvgPool branch (count_include_pad=1, padded) beside a 3×3, then summed.
    var builder = TestGraphBuilder(shape: [1, 4, 8, 8])
    let a = builder.conv("Conv_a", "x", out: 4, in: 4, kernel: 1)
    let pool = averagePool(&builder, "Pool", a, kernel: 3, pads: 1)
    let dense = builder.conv("Conv_c", "x", out: 4, in: 4, bias: true)
    builder.output(builder.op("Add", "Add", [pool, dense]))
    let (after, log) = try runPass(MergeSequentialConvs(), builder.graph)
    #expect(after.count("AveragePool") == 0 && after.count("Conv") == 2)
    #expect(log.rewrites.first?.replaced == ["Conv_a", "Pool"])
    #expect(try NaiveEvaluator.relativeDifference(builder.graph, after, shape: [1, 4, 8, 8]) <= 1e-12)
    // The whole pipeline then merges the sum into one 3×3.
    let fused = try fuse(builder.graph).graph
    #expect(fused.count("Conv") == 1 && fused.count("Add") == 0)
    #expect(try NaiveEvaluator.relativeDifference(builder.graph, fused, shape: [1, 4, 8, 8]) <= 1e-12)
}

@Test func averagePoolBeforePointwiseAndStridedPool() throws {
    var builder = TestGraphBuilder(shape: [1, 4, 9, 9])
    let pool = averagePool(&builder, "Pool", "x", kernel: 2, pads: 0, stride: 2, includePad: 0)
    let b = builder.conv("Conv_b", pool, out: 4, in: 4, kernel: 1, bias: true)
    builder.output(builder.op("Add", "Add", [b, builder.conv("Conv_c", "x", out: 4, in: 4, kernel: 2, pads: [0, 0, 0, 0], strides: 2)]))
    let (after, _) = try runPass(MergeSequentialConvs(), builder.graph)
    #expect(after.count("AveragePool") == 0)
    #expect(try NaiveEvaluator.relativeDifference(builder.graph, after, shape: [1, 4, 9, 9]) <= 1e-12)
}

@Test func averagePoolThatExcludesPaddingIsRefused() throws {
    var builder = TestGraphBuilder(shape: [1, 4, 8, 8])
    let a = builder.conv("Conv_a", "x", out: 4, in: 4, kernel: 1)
    builder.output(averagePool(&builder, "Pool", a, kernel: 3, pads: 1, includePad: 0))
    let (_, log) = try runPass(MergeSequentialConvs(), builder.graph)
    #expect(skipCodes(log) == ["pool-excludes-padding"])
    var ceil = TestGraphBuilder(shape: [1, 4, 8, 8])
    let c = ceil.conv("Conv_a", "x", out: 4, in: 4, kernel: 1)
    ceil.output(averagePool(&ceil, "Pool", c, kernel: 3, pads: 0, stride: 2, extra: [Attribute(name: "ceil_mode", value: .int(1))]))
    #expect(skipCodes(try runPass(MergeSequentialConvs(), ceil.graph).1) == ["pool-ceil-mode"])
}

@Test func depthwiseThenDenseMergesOnlyBeforeABranchSum() throws {
    var alone = TestGraphBuilder(shape: [1, 4, 6, 6])
    let dw = alone.conv("Conv_dw", "x", out: 4, in: 1, group: 4, bias: true)
    alone.output(alone.conv("Conv_pw", dw, out: 6, in: 4, kernel: 1, bias: true))
    let (kept, log) = try runPass(MergeSequentialConvs(), alone.graph)
    #expect(kept == alone.graph)
    #expect(skipCodes(log) == ["sequential-merge-costlier"])

    var summed = TestGraphBuilder(shape: [1, 4, 6, 6])
    let dw2 = summed.conv("Conv_dw", "x", out: 4, in: 1, group: 4, bias: true)
    let pw = summed.conv("Conv_pw", dw2, out: 4, in: 4, kernel: 1, bias: true)
    summed.output(summed.op("Add", "Add", [pw, summed.conv("Conv_c", "x", out: 4, in: 4)]))
    let (after, _) = try runPass(MergeSequentialConvs(), summed.graph)
    let merged = try #require(after.nodes.first { $0.name == "Conv_dw" })
    #expect(merged.attribute("group")?.intValue == 1)
    #expect(try NaiveEvaluator.relativeDifference(summed.graph, after, shape: [1, 4, 6, 6]) <= 1e-12)
}

@Test func sequentialRefusalsCarryTheirCodes() throws {
    func code(_ build: (inout TestGraphBuilder) -> Void) throws -> [String] {
        var builder = TestGraphBuilder(shape: [1, 4, 8, 8])
        build(&builder)
        return skipCodes(try runPass(MergeSequentialConvs(), builder.graph).1)
    }
    #expect(try code { b in b.output(b.conv("B", b.conv("A", "x", out: 4, in: 4), out: 4, in: 4)) } == ["sequential-kernels-both-spatial"])
    #expect(try code { b in
        b.output(b.conv("B", b.conv("A", "x", out: 4, in: 2, kernel: 1, group: 2), out: 8, in: 1, kernel: 1, group: 4))
    } == ["sequential-groups-unsupported"])
    #expect(try code { b in
        b.output(b.conv("B", b.conv("A", "x", out: 4, in: 4), out: 4, in: 4, kernel: 1, pads: [1, 1, 1, 1]))
    } == ["sequential-padding-not-composable"])
    #expect(try code { b in
        b.output(b.conv("B", b.conv("A", "x", out: 4, in: 4, kernel: 1, strides: 2), out: 4, in: 4, kernel: 3))
    } == ["sequential-padding-not-composable"])
    #expect(try code { b in
        let a = b.conv("A", "x", out: 4, in: 4, kernel: 1)
        b.output(b.conv("B", a, out: 4, in: 4, kernel: 1))
        b.output(a)
    } == ["output-is-graph-output"])
    #expect(try code { b in
        let a = b.conv("A", "x", out: 4, in: 4, kernel: 1)
        b.output(b.op("Add", "Add", [b.conv("B", a, out: 4, in: 4, kernel: 1), a]))
    } == [])  // a residual reader makes it no chain at all: not a site, nothing to explain
}

@Test func float32MergedKernelIsRoundedOnceFromFloat64() throws {
    var builder = TestGraphBuilder(shape: [1, 3, 6, 6], elementType: .float32)
    let a = builder.conv("A", "x", out: 5, in: 3, bias: true)
    builder.output(builder.conv("B", a, out: 2, in: 5, kernel: 1, bias: true))
    let (after, _) = try runPass(MergeSequentialConvs(), builder.graph)
    let conv = try #require(after.nodes.first)
    let weight = try #require(after.initializers[conv.inputs[1]])
    #expect(weight.elementType == .float32)
    let w1 = builder.graph.initializers["A.W"]!.doubleValues(), w2 = builder.graph.initializers["B.W"]!.doubleValues()
    var expected: [Float] = []
    for o in 0..<2 {
        for c in 0..<3 {
            for u in 0..<9 {
                var sum = 0.0
                for m in 0..<5 { sum += w2[o * 5 + m] * w1[(m * 3 + c) * 9 + u] }
                expected.append(Float(sum))
            }
        }
    }
    #expect(weight.elements(as: Float.self) == expected)
}

@Test func malformedAveragePoolKernelIsRefused() throws {
    for kernel: [Int64] in [[], [0, 3], [1 << 40, 1 << 40]] {
        var builder = TestGraphBuilder(shape: [1, 4, 8, 8])
        let a = builder.conv("Conv_a", "x", out: 4, in: 4, kernel: 1)
        builder.output(builder.op("AveragePool", "Pool", [a], attributes: [Attribute(name: "kernel_shape", value: .ints(kernel))]))
        let (after, log) = try runPass(MergeSequentialConvs(), builder.graph)
        #expect(after == builder.graph)
        #expect(skipCodes(log) == ["pool-attribute-malformed"], "kernel \(kernel)")
    }
}
