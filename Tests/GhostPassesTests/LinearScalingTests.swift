import GhostIR
@testable import GhostPasses
import Testing

// `fuse` must stay linear in the graph's size (issue 16, item 12). Wall time would make a flaky
// test, so these count the work of the graph-wide scans instead (`GraphScanCounter`): per node,
// it must not grow with the graph, and the number of index builds must not depend on it.

/// Conv → BatchNormalization → Relu, repeated until the graph has `nodes` nodes.
private func chain(nodes: Int) -> Graph {
    var builder = TestGraphBuilder(shape: [1, 2, 4, 4], elementType: .float32)
    var value = "x"
    for unit in 0..<(nodes / 3) {
        let conv = builder.conv("c\(unit)", value, out: 2, in: 2, kernel: 1, bias: true)
        value = builder.op("Relu", "r\(unit)", [builder.batchNorm("b\(unit)", conv, channels: 2)])
    }
    builder.output(value)
    return builder.graph
}

/// `branches` Conv → BatchNormalization branches on one input, all read by one Concat.
private func wideConcat(branches: Int) -> Graph {
    var builder = TestGraphBuilder(shape: [1, 2, 4, 4], elementType: .float32)
    let inputs = (0..<branches).map { branch in
        builder.batchNorm("b\(branch)", builder.conv("c\(branch)", "x", out: 2, in: 2, kernel: 1, bias: true), channels: 2)
    }
    builder.output(builder.op("Concat", "concat", inputs, attributes: [Attribute(name: "axis", value: .int(1))]))
    return builder.graph
}

private struct Work {
    let steps: Int
    let indexBuilds: Int
    let nodes: Int
    let result: PipelineResult

    var stepsPerNode: Double { Double(steps) / Double(nodes) }
}

private func measure(_ graph: Graph) throws -> Work {
    let counter = GraphScanCounter()
    let result = try GraphScanCounter.$current.withValue(counter) { try fuse(graph) }
    return Work(steps: counter.steps, indexBuilds: counter.indexBuilds, nodes: graph.nodes.count, result: result)
}

@Test func fusingAChainCostsTheSamePerNodeAtAnySize() throws {
    let small = try measure(chain(nodes: 2_000))
    let large = try measure(chain(nodes: 20_000))
    // Every BN folded (so the passes did their work), in the same number of rounds.
    #expect(large.result.graph.count("BatchNormalization") == 0)
    #expect(large.result.graph.count("Conv") == 20_000 / 3)
    #expect(large.result.rounds == small.result.rounds)
    // A pass builds its index once per run, never once per site.
    #expect(large.indexBuilds == small.indexBuilds)
    #expect(large.indexBuilds <= PassPipeline.default.passes.count * large.result.rounds)
    #expect(large.stepsPerNode <= small.stepsPerNode * 1.1)
    #expect(large.stepsPerNode < 60)
}

@Test func aConcatOfManyInputsIsIndexedInLinearTime() throws {
    let small = try measure(wideConcat(branches: 1_000))
    let large = try measure(wideConcat(branches: 10_000))
    #expect(large.result.graph.count("Concat") == 1)
    #expect(large.result.graph.count("BatchNormalization") == 0)
    #expect(large.indexBuilds > 0)
    #expect(large.indexBuilds == small.indexBuilds)
    // Rescanning a node's earlier inputs for repeats would make this ~10,000 per node.
    #expect(large.stepsPerNode <= small.stepsPerNode * 1.1)
    #expect(large.stepsPerNode < 60)
}

@Test func consumerIndexOfAWideNodeListsEachReaderOnce() {
    // The set path (more than 8 inputs) must give what the small path gives: each reader once,
    // ascending, omitted inputs ignored.
    let inputs = (0..<20).map { $0 % 3 == 0 ? "a" : $0 % 3 == 1 ? "b" : "" } + ["c", "a"]
    let graph = Graph(nodes: [
        Node(name: "small", opType: "Sum", inputs: ["a", "b", "a", ""], outputs: ["s"]),
        Node(name: "wide", opType: "Concat", inputs: inputs, outputs: ["w"]),
    ])
    let consumers = graph.consumerIndex()
    #expect(consumers["a"] == [0, 1])
    #expect(consumers["b"] == [0, 1])
    #expect(consumers["c"] == [1])
    #expect(consumers[""] == nil)
}
