import GhostIR
import TestSupport
@testable import GhostPasses
import Testing

@Test func defaultPipelineOrderIsStable() {
    #expect(PassPipeline.default.passNames == [
        "fold-shape", "fold-constants", "fold-reshape-target", "eliminate-noop-ops", "slice-of-concat",
        "eliminate-identity", "fold-batchnorm-into-conv", "fold-affine-into-conv", "fold-bias-padding-into-conv",
        "fold-batchnorm-into-following-conv", "merge-sequential-convs", "fold-batchnorm-into-linear", "fold-affine-into-linear",
        "batchnorm-to-depthwise-conv", "pad-kernel-to-3x3", "merge-parallel-convs", "merge-parallel-linears",
        "eliminate-dead-nodes",
    ])
}

@Test func unknownPassNameIsAnError() {
    #expect(throws: PassError.unknownPass(name: "fold-everything", known: PassPipeline.default.passNames)) {
        try PassPipeline.default.disabling(["fold-everything"])
    }
}

@Test func disablingTheMergeLeavesTheBranches() throws {
    var builder = TestGraphBuilder(shape: [1, 2, 6, 6])
    let a = builder.batchNorm("a.bn", builder.conv("a", "x", out: 2, in: 2), channels: 2)
    let b = builder.batchNorm("b.bn", builder.conv("b", "x", out: 2, in: 2, kernel: 1), channels: 2)
    builder.output(builder.op("Add", "Add_0", [a, b]))
    let result = try fuse(builder.graph, disabling: ["merge-parallel-convs"])
    #expect(result.graph.count("Conv") == 2)
    #expect(result.graph.count("BatchNormalization") == 0)
    #expect(result.graph.count("Add") == 1)
}

/// A pass that drops a node's producer: the pipeline must catch it and name the pass.
private struct BreakingPass: GraphPass {
    let name = "break-something"
    func run(on graph: inout Graph, log: inout PassLog) throws(PassError) {
        graph.nodes.removeFirst()
    }
}

@Test func verifierNamesThePassThatBrokeTheGraph() throws {
    var builder = TestGraphBuilder(shape: [1, 2, 4, 4])
    builder.output(builder.op("Relu", "B", [builder.op("Relu", "A", ["x"])]))
    let pipeline = PassPipeline(passes: [BreakingPass()])
    #expect(throws: PassError.brokeGraph(pass: "break-something", defect: .undefinedInput(node: "B", value: "A.out"))) {
        try pipeline.run(builder.graph)
    }
}

@Test func pipelineReachesAFixedPoint() throws {
    // Merging first needs BN folding, BN→conv and padding: several passes, then a quiet round.
    var builder = TestGraphBuilder(shape: [1, 3, 6, 6])
    let a = builder.batchNorm("a.bn", builder.conv("a", "x", out: 3, in: 3), channels: 3)
    let b = builder.batchNorm("b.bn", builder.conv("b", "x", out: 3, in: 3, kernel: 1), channels: 3)
    let sum = builder.op("Add", "Add_0", [a, b])
    builder.output(builder.batchNorm("after.bn", sum, channels: 3))
    let result = try fuse(builder.graph)
    // The trailing BN becomes foldable only once the branches are one Conv: a second round.
    #expect(result.graph.nodes.map(\.opType) == ["Conv"])
    #expect(result.rounds == 3)
    #expect(try NaiveEvaluator.relativeDifference(builder.graph, result.graph, shape: [1, 3, 6, 6]) <= 1e-12)
}

/// Disabling a prerequisite is never silent: the merge reports the sites that wait for it, with
/// the prerequisite's name, and the pipeline lists the missing prerequisite.
@Test func disablingThePaddingIsReportedByTheMerge() throws {
    var builder = TestGraphBuilder(shape: [1, 2, 6, 6])
    let a = builder.conv("a", "x", out: 2, in: 2)
    let b = builder.conv("b", "x", out: 2, in: 2, kernel: 1)
    builder.output(builder.op("Add", "Add_0", [a, b]))
    let pipeline = try PassPipeline.default.disabling(["pad-kernel-to-3x3"])
    #expect(pipeline.missingPrerequisites == [MissingPrerequisite(pass: "merge-parallel-convs", requires: "pad-kernel-to-3x3")])
    let result = try pipeline.run(builder.graph)
    #expect(result.graph.count("Conv") == 2)
    let skipped = result.report("merge-parallel-convs")?.skipped ?? []
    #expect(skipped.map(\.code) == ["waits-for-padding"])
    #expect(skipped.map(\.status) == ["waits-for"])
    #expect(skipped.map(\.waitsFor) == ["pad-kernel-to-3x3"])
    #expect(skipped.map(\.nodes) == [["b"]])
    #expect(result.missingPrerequisites.count == 1)
    #expect(PassPipeline.default.missingPrerequisites.isEmpty)
}

/// The same graph with every pass: the padding rewrites, the merge finishes, nothing is left
/// waiting.
@Test func prerequisitesRunInTheirOrder() throws {
    var builder = TestGraphBuilder(shape: [1, 2, 6, 6])
    let a = builder.conv("a", "x", out: 2, in: 2)
    let b = builder.conv("b", "x", out: 2, in: 2, kernel: 1)
    builder.output(builder.op("Add", "Add_0", [a, b]))
    let result = try fuse(builder.graph)
    #expect(result.graph.nodes.map(\.opType) == ["Conv"])
    #expect(result.report("pad-kernel-to-3x3")?.rewrites.map(\.replaced) == [["b"]])
    #expect(result.reports.allSatisfy { $0.skipped.isEmpty })
}

/// docs/passes.md lists every skip code, and nothing else under its "Skip codes" table.
@Test func skipCodesAreDocumented() throws {
    let text = try String(contentsOf: repositoryRoot.appendingPathComponent("docs/passes.md"), encoding: .utf8)
    guard let start = text.range(of: "<!-- BEGIN SKIP CODES -->"), let end = text.range(of: "<!-- END SKIP CODES -->") else {
        Issue.record("docs/passes.md has no skip-code table")
        return
    }
    let table = text[start.upperBound..<end.lowerBound]
    let documented = table.split(separator: "\n").compactMap { line -> String? in
        guard line.hasPrefix("| `") else { return nil }
        return line.dropFirst(3).split(separator: "`").first.map(String.init)
    }
    #expect(documented.sorted() == SkipCode.allCases.map(\.rawValue).sorted())
}
