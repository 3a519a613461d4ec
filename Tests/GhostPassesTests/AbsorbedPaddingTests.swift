import GhostIR
import TestSupport
@testable import GhostPasses
import Testing

// `merge-parallel-convs` absorbs `pad-kernel-to-3x3` (`AbsorbingPass`): in the default pipeline
// its sweep centres smaller kernels itself and logs each padding under `pad-kernel-to-3x3`. These
// tests run the pipeline both ways (`absorbsPasses` false runs every pass on its own) and require
// the same graph, weight bits and reports.

/// The pipeline run both ways.
private func bothSchedules(_ graph: Graph, disabling: [String] = []) throws -> (absorbed: PipelineResult, alone: PipelineResult) {
    let pipeline = try PassPipeline.default.disabling(disabling)
    var alone = pipeline
    alone.absorbsPasses = false
    return (try pipeline.run(graph), try alone.run(graph))
}

/// Same nodes (types, attributes, provenance, inputs up to weight names) and the same weight
/// values, bit for bit, in the order the nodes read them.
private func expectSameGraph(_ absorbed: Graph, _ alone: Graph, _ label: String) {
    #expect(absorbed.nodes.map(\.opType) == alone.nodes.map(\.opType), "\(label)")
    for (a, b) in zip(absorbed.nodes, alone.nodes) {
        #expect(a.name == b.name && a.outputs == b.outputs && a.attributes == b.attributes && a.fusedFrom == b.fusedFrom, "\(label): \(a.name)")
        #expect(a.inputs.count == b.inputs.count, "\(label): \(a.name)")
        for (x, y) in zip(a.inputs, b.inputs) {
            switch (absorbed.initializers[x], alone.initializers[y]) {
            case let (p?, q?):
                #expect(p.shape == q.shape && p.elementType == q.elementType, "\(label): \(x)")
                #expect(p.doubleValues().map(\.bitPattern) == q.doubleValues().map(\.bitPattern), "\(label): \(x) bits")
            case (nil, nil):
                #expect(x == y, "\(label): \(a.name) reads \(x), alone \(y)")
            default:
                Issue.record("\(label): \(a.name) reads \(x) and \(y), one of them a weight")
            }
        }
    }
}

/// Graphs with every kind of site the padding meets: RepVGG with and without groups, a
/// three-size sum, asymmetric pads, stride 2, and sums it must skip (misaligned pads, groups).
private func cases() -> [(String, Graph, padded: Int)] {
    var cases: [(String, Graph, padded: Int)] = []
    for group in [1, 2] {
        // The 1×1 branch and the identity (a 1×1 Conv by then).
        cases.append(("repvgg group \(group)", repVGGBlockWithIdentity(group: group).graph, 2))
    }
    do {
        var builder = TestGraphBuilder(shape: [1, 1, 7, 7])
        let big = builder.conv("big", "x", out: 1, in: 1, kernel: 5)
        let mid = builder.conv("mid", "x", out: 1, in: 1, kernel: 3)
        // The smaller branch first in node order: the merged Conv takes its name.
        let small = builder.conv("small", "x", out: 1, in: 1, kernel: 1, bias: true)
        builder.graph.nodes.insert(builder.graph.nodes.removeLast(), at: 0)
        builder.output(builder.op("Add", "Add_1", [builder.op("Add", "Add_0", [small, mid]), big]))
        cases.append(("5×5, 3×3, 1×1", builder.graph, 2))
    }
    do {
        var builder = TestGraphBuilder(shape: [1, 2, 6, 6])
        let a = builder.conv("a", "x", out: 2, in: 2, pads: [1, 1, 2, 2])
        let b = builder.conv("b", "x", out: 2, in: 2, kernel: 1, pads: [0, 0, 1, 1])
        let c = builder.conv("c", "x", out: 2, in: 2, pads: [1, 1, 2, 2], strides: 2)
        let d = builder.conv("d", "x", out: 2, in: 2, kernel: 1, pads: [0, 0, 1, 1], strides: 2)
        // Output 6×6 each, but the 1×1 would need pads [1, 1] at the start to line up.
        let e = builder.conv("e", "x", out: 2, in: 2, pads: [0, 0, 2, 2])
        let f = builder.conv("f", "x", out: 2, in: 2, kernel: 1, pads: [0, 0, 0, 0])
        let g = builder.conv("g", "x", out: 2, in: 1, group: 2)
        let h = builder.conv("h", "x", out: 2, in: 2, kernel: 1)
        builder.output(builder.op("Add", "Add_ab", [a, b]))
        builder.output(builder.op("Add", "Add_cd", [c, d]))
        builder.output(builder.op("Add", "Add_ef", [e, f]))
        builder.output(builder.op("Add", "Add_gh", [g, h]))
        cases.append(("aligned, stride 2, misaligned, groups differ", builder.graph, 2))
    }
    return cases
}

@Test func absorbedPaddingGivesTheGraphAndReportsOfThePassesRunAlone() throws {
    for (label, graph, padded) in cases() {
        let (absorbed, alone) = try bothSchedules(graph)
        expectSameGraph(absorbed.graph, alone.graph, label)
        #expect(absorbed.reports == alone.reports, "\(label)")
        #expect(absorbed.rounds == alone.rounds, "\(label)")
        #expect(absorbed.report("pad-kernel-to-3x3")?.rewrites.count == padded, "\(label)")
        #expect(absorbed.report("merge-parallel-convs")?.rewrites.isEmpty == false, "\(label)")
        // The sweep that did the padding is the merge's: the padding pass took no time of its own.
        #expect(absorbed.timings.first { $0.step == "pad-kernel-to-3x3" }?.duration == .zero, "\(label)")
        for output in graph.outputs {
            var before = graph, after = absorbed.graph
            before.outputs = [output]
            after.outputs = after.outputs.filter { $0.name == output.name }
            #expect(try NaiveEvaluator.relativeDifference(before, after, shape: graph.inputs[0].fixedShape ?? []) <= 1e-12,
                    "\(label): \(output.name)")
        }
    }
}

/// The skipped sums are logged under both passes, at the anchors each pass uses (the smaller
/// branch for the padding, the root for the merge).
@Test func absorbedPaddingLogsTheSkipsOfTheSumsItWouldHaveMatched() throws {
    let (label, graph, _) = cases()[3]
    let (absorbed, _) = try bothSchedules(graph)
    let padding = absorbed.report("pad-kernel-to-3x3")?.skipped ?? []
    #expect(padding.map(\.node) == ["f", "h"], "\(label)")
    #expect(padding.map(\.code) == ["pads-not-centred", "groups-differ"], "\(label)")
    let merge = absorbed.report("merge-parallel-convs")?.skipped ?? []
    #expect(merge.map(\.node) == ["Add_ef", "Add_gh"], "\(label)")
    #expect(merge.map(\.code) == padding.map(\.code))
    #expect(absorbed.graph.count("Add") == 2)
}

/// Each schedule without the other pass: the merge alone waits for the padding, the padding alone
/// pads; both the same either way.
@Test func withOneOfTheTwoDisabledEachRunsAsItself() throws {
    let (_, graph, _) = cases()[0]
    let (noPadding, noPaddingAlone) = try bothSchedules(graph, disabling: ["pad-kernel-to-3x3"])
    #expect(noPadding.report("merge-parallel-convs")?.skipped.map(\.code) == ["waits-for-padding"])
    #expect(noPadding.reports == noPaddingAlone.reports)
    let (noMerge, noMergeAlone) = try bothSchedules(graph, disabling: ["merge-parallel-convs"])
    #expect(noMerge.report("pad-kernel-to-3x3")?.rewrites.count == 2)
    #expect(noMerge.graph.count("Conv") == 3)
    #expect(noMerge.graph.nodes.filter { $0.opType == "Conv" }.allSatisfy { $0.attribute("kernel_shape")?.intsValue == [3, 3] })
    #expect(noMerge.reports == noMergeAlone.reports)
    expectSameGraph(noMerge.graph, noMergeAlone.graph, "merge disabled")
}

/// The one difference, by design: a sum the merge refuses for a reason the padding does not check
/// (a bias that is not a constant) keeps its 1×1 branch as it was, where the padding run alone
/// padded it for nothing.
@Test func absorbedPaddingPadsOnlyForAMergeThatTakesTheSum() throws {
    var builder = TestGraphBuilder(shape: [1, 2, 6, 6])
    let a = builder.conv("a", "x", out: 2, in: 2, bias: true)
    builder.graph.nodes[0].inputs[2] = "a.bias_input"
    builder.graph.inputs.append(Value(name: "a.bias_input", elementType: .float64, shape: [.fixed(2)]))
    let b = builder.conv("b", "x", out: 2, in: 2, kernel: 1)
    builder.output(builder.op("Add", "Add_0", [a, b]))
    let (absorbed, alone) = try bothSchedules(builder.graph)
    let kernels = { (graph: Graph) in graph.nodes.compactMap { $0.attribute("kernel_shape")?.intsValue } }
    #expect(kernels(absorbed.graph) == [[3, 3], [1, 1]])
    #expect(kernels(alone.graph) == [[3, 3], [3, 3]])
    #expect(absorbed.report("pad-kernel-to-3x3")?.rewrites.isEmpty == true)
    #expect(absorbed.report("pad-kernel-to-3x3")?.skipped.map(\.code) == ["conv-bias-not-constant"])
    #expect(absorbed.report("merge-parallel-convs")?.skipped.map(\.code) == ["conv-bias-not-constant"])
    #expect(alone.report("merge-parallel-convs")?.skipped.map(\.code) == ["conv-bias-not-constant"])
}

/// Only a padding right before the merge is absorbed: in the other order the merge waits for
/// the padding in the first round and takes the padded sum in the next, as passes that never
/// absorb do.
@Test func aPaddingAfterTheMergeIsNotAbsorbed() throws {
    let (_, graph, _) = cases()[0]
    var reversed = PassPipeline(passes: [FoldBatchNormIntoConv(), BatchNormToDepthwiseConv(), MergeParallelConvs(), PadKernelTo3x3()])
    let result = try reversed.run(graph)
    reversed.absorbsPasses = false
    let alone = try reversed.run(graph)
    #expect(result.graph.nodes.map(\.opType) == ["Conv", "Relu"])
    #expect(result.rounds == 3)
    #expect(result.reports == alone.reports)
    #expect(result.report("pad-kernel-to-3x3")?.rewrites.count == 2)
    #expect(result.timings.first { $0.step == "pad-kernel-to-3x3" }.map { $0.duration > .zero } == true)
    expectSameGraph(result.graph, alone.graph, "merge before padding")
}
