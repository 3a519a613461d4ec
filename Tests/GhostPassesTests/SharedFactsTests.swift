import GhostIR
@testable import GhostPasses
import Testing

// The passes of a pipeline run share one census and one index per state of the graph
// (`GraphFacts`), and the editor applies its edits without sweeping the whole graph. These
// count index builds and scan steps (never time) to hold that in place.

private func chain(units: Int) -> Graph {
    var builder = TestGraphBuilder(shape: [1, 2, 4, 4], elementType: .float32)
    var value = "x"
    for unit in 0..<units {
        let conv = builder.conv("c\(unit)", value, out: 2, in: 2, kernel: 1, bias: true)
        value = builder.op("Relu", "r\(unit)", [builder.batchNorm("b\(unit)", conv, channels: 2)])
    }
    builder.output(value)
    return builder.graph
}

@Test func aChainIsIndexedOncePerGraphStateItIsMatchedIn() throws {
    let counter = GraphScanCounter()
    let result = try GraphScanCounter.$current.withValue(counter) { try fuse(chain(units: 300)) }
    #expect(result.graph.count("BatchNormalization") == 0)
    #expect(result.graph.count("Conv") == 300)
    // fold-batchnorm-into-conv indexes the loaded graph; after its rewrite,
    // merge-sequential-convs indexes the folded one and every later pass (dead-node elimination
    // included) reuses that index. Passes whose operators are absent (shape folding, the
    // branch and linear rules) build none: 17 passes, two rounds, two index builds.
    #expect(counter.indexBuilds == 2)
    #expect(result.rounds == 2)
}

@Test func aGraphWithoutAnyPassOperatorIsIndexedOnce() throws {
    var builder = TestGraphBuilder(shape: [1, 2, 4, 4], elementType: .float32)
    var value = "x"
    for unit in 0..<50 { value = builder.op("Relu", "r\(unit)", [value]) }
    builder.output(value)
    let counter = GraphScanCounter()
    let result = try GraphScanCounter.$current.withValue(counter) { try fuse(builder.graph) }
    #expect(result.graph.nodes.count == 50)
    #expect(result.rounds == 1)
    // Every pass but dead-node elimination sees from the census that its operators are absent:
    // one index build in the whole run.
    #expect(counter.indexBuilds == 1)
}

@Test func cachedFactsAreRebuiltForAChangedNodeList() {
    let graph = chain(units: 3)
    let facts = GraphFacts()
    let counter = GraphScanCounter()
    GraphScanCounter.$current.withValue(counter) {
        let first = facts.index(of: graph)
        _ = facts.index(of: graph)
        #expect(counter.indexBuilds == 1)
        #expect(facts.census(of: graph).count("BatchNormalization") == 3)
        // The same nodes under a new buffer (a pass that mutated the list in place) are a new state.
        var changed = graph
        changed.nodes.removeLast()
        let second = facts.index(of: changed)
        #expect(counter.indexBuilds == 2)
        #expect(second.graph.nodes.count == first.graph.nodes.count - 1)
        #expect(facts.census(of: changed).count("Relu") == 2)
        #expect(facts.cachedIndex(of: graph) == nil)
        facts.invalidate()
        #expect(facts.cachedIndex(of: changed) == nil)
    }
}

@Test func editsDropOnlyWeightsNoRemainingNodeReads() throws {
    // Two Convs share the weight W; a third reads its own V. Replacing the first Conv and the
    // one reading V leaves W (still read by the second) and drops V; a weight a placed node
    // reads stays too.
    var graph = Graph(inputs: [Value(name: "x", elementType: .float32, shape: [.fixed(1)])],
                      outputs: [Value(name: "c", elementType: .float32), Value(name: "e", elementType: .float32)])
    graph.initializers["W"] = try Tensor(float32: [1], shape: [1])
    graph.initializers["V"] = try Tensor(float32: [2], shape: [1])
    graph.initializers["P"] = try Tensor(float32: [3], shape: [1])
    graph.inputs.append(Value(name: "V", elementType: .float32, shape: [.fixed(1)]))
    graph.nodes = [
        Node(name: "a", opType: "Mul", inputs: ["x", "W"], outputs: ["a"]),
        Node(name: "b", opType: "Mul", inputs: ["a", "W"], outputs: ["b"]),
        Node(name: "c", opType: "Mul", inputs: ["b", "V"], outputs: ["c"]),
        Node(name: "d", opType: "Mul", inputs: ["x", "P"], outputs: ["d"]),
        Node(name: "e", opType: "Relu", inputs: ["d"], outputs: ["e"]),
    ]
    let index = GraphIndex(graph)
    var editor = GraphEditor(index)
    #expect(editor.isFree([0, 2, 3]))
    editor.replace([0], with: Node(name: "a", opType: "Relu", inputs: ["x"], outputs: ["a"]))
    editor.replace([2], with: Node(name: "c", opType: "Relu", inputs: ["b"], outputs: ["c"]))
    editor.replace([3], with: Node(name: "d", opType: "Add", inputs: ["x", "P"], outputs: ["d"]))
    #expect(!editor.isFree([1, 2]))
    #expect(editor.isFree([1, 4]))
    // Names the graph or this edit already uses get a suffix.
    #expect(editor.uniqueName("W") == "W_1")
    #expect(editor.uniqueName("W") == "W_2")
    #expect(editor.uniqueName("e") == "e_1")
    #expect(editor.uniqueName("x") == "x_1")
    #expect(editor.addInitializer(try Tensor(float32: [4], shape: [1]), preferredName: "d") == "d_1")
    var edits = try #require(editor.finish())
    #expect(edits.orphans == ["V"])
    edits.apply(to: &graph)
    #expect(graph.nodes.map(\.opType) == ["Relu", "Mul", "Relu", "Add", "Relu"])
    #expect(graph.initializers.names == ["W", "P", "d_1"])
    #expect(graph.inputs.map(\.name) == ["x"])
    #expect(GraphVerifier.defects(in: graph).isEmpty)
}

@Test func anEditorThatRecordedNothingHasNoEdits() {
    let graph = chain(units: 2)
    let editor = GraphEditor(GraphIndex(graph))
    #expect(editor.finish() == nil)
}

@Test func aRepVGGStackIsIndexedOncePerRewritingPass() throws {
    var builder = TestGraphBuilder(shape: [1, 2, 4, 4], elementType: .float32)
    var value = "x"
    for block in 0..<20 {
        let dense = builder.batchNorm("bd\(block)", builder.conv("cd\(block)", value, out: 2, in: 2, kernel: 3), channels: 2)
        let point = builder.batchNorm("bp\(block)", builder.conv("cp\(block)", value, out: 2, in: 2, kernel: 1), channels: 2)
        let identity = builder.batchNorm("bi\(block)", value, channels: 2)
        value = builder.op("Relu", "r\(block)", [builder.op("Add", "s\(block)", [builder.op("Add", "a\(block)", [dense, point]), identity])])
    }
    builder.output(value)
    let counter = GraphScanCounter()
    let result = try GraphScanCounter.$current.withValue(counter) { try fuse(builder.graph) }
    #expect(result.graph.count("Conv") == 20)
    #expect(result.graph.nodes.count == 40)
    // Three sweeps rewrite (fold, identity to Conv, and the merge, which does the padding's work
    // too). Each rewritten graph is checked by the index of it, built at once and read by the
    // passes after; the end runs `GraphVerifier` once. Index builds: the loaded graph's (it tells
    // the list is in order, and fold-constants and fold-batchnorm-into-conv read it), then one
    // after each rewriting sweep.
    #expect(counter.verifications == 1)
    #expect(counter.detailedVerifications == 0)
    #expect(counter.indexBuilds == 4)
    #expect(result.report("pad-kernel-to-3x3")?.rewrites.count == 40)
    // The padding as a sweep of its own: one more rewritten graph, one more index.
    var alone = PassPipeline.default
    alone.absorbsPasses = false
    let separate = GraphScanCounter()
    let same = try GraphScanCounter.$current.withValue(separate) { try alone.run(builder.graph) }
    #expect(separate.indexBuilds == 5)
    #expect(same.reports == result.reports)
}

@Test func aWeightManyFoldedBranchesShareIsDecidedOnce() throws {
    // 40 Conv → BN branches on x all read one shared weight W: folding removes every Conv, and
    // W (now read by none) goes once, not once per branch.
    var builder = TestGraphBuilder(shape: [1, 2, 4, 4], elementType: .float32)
    let shared = builder.constant("W", [Float](repeating: 0.5, count: 4), shape: [2, 2, 1, 1])
    var outputs: [String] = []
    for branch in 0..<40 {
        builder.graph.nodes.append(Node(name: "c\(branch)", opType: "Conv", inputs: ["x", shared], outputs: ["c\(branch).out"]))
        outputs.append(builder.batchNorm("b\(branch)", "c\(branch).out", channels: 2))
    }
    builder.output(builder.op("Concat", "concat", outputs, attributes: [Attribute(name: "axis", value: .int(1))]))
    var graph = builder.graph
    var log = PassLog()
    try FoldBatchNormIntoConv().run(on: &graph, log: &log)
    #expect(log.rewrites.count == 40)
    #expect(!graph.initializers.contains("W"))
    // 40 folded weights and biases, nothing else.
    #expect(graph.initializers.count == 80)
    #expect(GraphVerifier.defects(in: graph).isEmpty)
}

@Test func newNamesAvoidNodeNamesThroughTheFilterTheListAndTheSet() throws {
    // 40 nodes whose names are no value's: the editor's names must still avoid them. The first
    // 16 names the filter lets through are looked for in the node list, the rest in a set.
    var graph = Graph(inputs: [Value(name: "x")], outputs: [Value(name: "v39")])
    graph.nodes = (0..<40).map { Node(name: "k\($0)", opType: "Relu", inputs: [$0 == 0 ? "x" : "v\($0 - 1)"], outputs: ["v\($0)"]) }
    var editor = GraphEditor(GraphIndex(graph))
    for position in 0..<40 { #expect(editor.uniqueName("k\(position)") == "k\(position)_1") }
    #expect(editor.uniqueName("k3") == "k3_2")
    #expect(editor.uniqueName("v7") == "v7_1")          // a value's name
    #expect(editor.uniqueName("fresh") == "fresh")      // no one's
    #expect(editor.uniqueName("x") == "x_1")            // a graph input's
}

@Test func retiredNodesAndWeightsLeaveTheGraphAsReleasedOnesDo() throws {
    // The same edits applied with a retirement (what a pipeline does) and without: the same graph,
    // and the retirement holds exactly what went.
    var graph = Graph(inputs: [Value(name: "x", elementType: .float32, shape: [.fixed(1)])],
                      outputs: [Value(name: "e", elementType: .float32)])
    for name in ["W", "V", "P"] { graph.initializers[name] = try Tensor(float32: [1], shape: [1]) }
    graph.nodes = [
        Node(name: "a", opType: "Mul", inputs: ["x", "W"], outputs: ["a"]),
        Node(name: "b", opType: "Mul", inputs: ["a", "V"], outputs: ["b"]),
        Node(name: "c", opType: "Relu", inputs: ["b"], outputs: ["c"]),
        Node(name: "d", opType: "Mul", inputs: ["c", "P"], outputs: ["d"]),
        Node(name: "e", opType: "Relu", inputs: ["d"], outputs: ["e"]),
    ]
    var editor = GraphEditor(GraphIndex(graph))
    // a and b become one Relu in b's place; d goes, its reader now reads c.
    editor.replace([0, 1], with: Node(name: "ab", opType: "Relu", inputs: ["x"], outputs: ["b"]))
    editor.replace([3], with: Node(name: "d", opType: "Identity", inputs: ["c"], outputs: ["d"]))
    var edits = try #require(editor.finish())
    // `apply` moves the placed nodes out of the edits it is called on; a copy made before keeps
    // its own (copy on write), so each copy applies to a graph once.
    var second = edits
    var released = graph, retired = graph
    edits.apply(to: &released)
    #expect(edits.placed.values.flatMap(\.nodes).allSatisfy { $0 == GraphEdits.vacated })
    #expect(second.placed.values.flatMap(\.nodes).map(\.name).sorted() == ["ab", "d"])
    let retirement = Retirement()
    second.apply(to: &retired, retiring: retirement)
    #expect(retired == released)
    #expect(retired.nodes.map(\.name) == ["ab", "c", "d", "e"])
    #expect(retired.initializers.names.isEmpty)
    #expect(GraphVerifier.defects(in: retired).isEmpty)
    let batch = try #require(retirement.takePending())
    #expect(batch.nodes.map(\.name).sorted() == ["a", "b", "d"])
    #expect(batch.entries.map(\.name).sorted() == ["P", "V", "W"])
    #expect(retirement.takePending() == nil)
    // The original, shared before the edit, is untouched by either.
    #expect(graph.nodes.count == 5 && graph.initializers.count == 3)
}
