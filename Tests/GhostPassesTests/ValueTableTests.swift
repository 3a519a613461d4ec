import GhostIR
@testable import GhostPasses
import Testing

// The index's value table (one id per name, readers as one flat list) must answer exactly what
// the `[String: Int]` / `[String: [Int]]` maps it replaced answered; the editor's in-place
// compaction must give the node list the rebuild gave.

private func node(_ name: String, _ opType: String, _ inputs: [String], _ outputs: [String]) -> Node {
    Node(name: name, opType: opType, inputs: inputs, outputs: outputs)
}

@Test func readersAreEachNodeOnceAscendingAndProducersTheFirstWriter() {
    let nodes = [
        node("a", "Relu", ["x"], ["p"]),
        node("b", "Add", ["p", "p"], ["q"]),          // reads p twice: one reader
        node("c", "Concat", ["x", "q", "p", "x", "", "w"], ["r"]),
        node("d", "Relu", ["r"], ["p"]),              // a second writer of p: the first stays
        node("e", "Relu", [""], ["", "s"]),
    ]
    let table = ValueTable(Graph(nodes: nodes))
    #expect(Array(table.readers(of: "p") ?? []) == [1, 2])
    #expect(Array(table.readers(of: "x") ?? []) == [0, 2])
    #expect(Array(table.readers(of: "w") ?? []) == [2])
    #expect(table.readers(of: "s") == nil)             // written, never read
    #expect(table.readers(of: "missing") == nil)
    #expect(table.readers(of: "") == nil)              // omitted inputs are no value
    #expect(table.producer(of: "p") == 0)
    #expect(table.producer(of: "s") == 4)
    #expect(table.producer(of: "x") == nil)            // read, never written
    #expect(table.producer(of: "w") == nil)
    #expect(table.lookup("q").produced)
    #expect(!table.lookup("x").produced)
    #expect(table.lookup("r").readers == [3])
    #expect(table.lookup("x").slot == -1)
    // Zero-based like the arrays they replace, whatever their place in the flat list.
    let readers = table.readers(of: "p") ?? []
    #expect(readers[0] == 1 && readers[1] == 2 && readers.count == 2)
}

@Test func theIndexAnswersAsTheMapsItReplaced() throws {
    // A wide node (more inputs than the old small-node path compared) and a repeated input.
    var graph = Graph(inputs: [Value(name: "x")])
    graph.nodes = (0..<20).map { node("n\($0)", "Relu", ["x"], ["v\($0)"]) }
    graph.nodes.append(node("cat", "Concat", (0..<20).map { "v\($0)" } + ["v3", "x"], ["y"]))
    graph.outputs = [Value(name: "y")]
    let index = GraphIndex(graph)
    let producers = graph.producerIndex(), consumers = graph.consumerIndex()
    for name in ["x", "y", "v3", "v19", "nothing"] {
        #expect(index.producer[name] == producers[name])
        #expect(index.consumers[name].map(Array.init) == consumers[name])
    }
}

@Test func editsCompactInPlaceOrRebuildToTheSameList() throws {
    var builder = TestGraphBuilder(shape: [1, 2, 4, 4], elementType: .float32)
    var value = "x"
    for unit in 0..<6 { value = builder.op("Relu", "r\(unit)", [value]) }
    builder.output(value)
    let graph = builder.graph
    let index = GraphIndex(graph)
    let extra = node("extra", "Relu", ["x"], ["unused"])

    // Two nodes out, one in (fits in place), and one out, two in at the front (does not fit).
    for (replaced, placedAt, placing) in [([1, 2], 2, [index.node(2)]), ([0], 0, [index.node(0), extra])] {
        var editor = GraphEditor(index)
        editor.replace(replaced.filter { $0 != placedAt }, with: nil)
        editor.place(placing, at: placedAt)
        var edits = try #require(editor.finish())
        var edited = graph
        edits.apply(to: &edited)
        var expected: [Node] = []
        for (position, node) in graph.nodes.enumerated() {
            if position == placedAt { expected += placing } else if !replaced.contains(position) { expected.append(node) }
        }
        #expect(edited.nodes == expected)
        #expect(graph.nodes.count == 6)  // the original, shared before the edit, is untouched
    }
}

@Test func theTableRecordsEachInitializerSlotAndEveryInputID() throws {
    var graph = Graph(inputs: [Value(name: "x")], outputs: [Value(name: "y")])
    graph.initializers["gone"] = try Tensor(float32: [0], shape: [1])
    graph.initializers["w"] = try Tensor(float32: [1], shape: [1])
    graph.initializers["b"] = try Tensor(float32: [2], shape: [1])
    graph.initializers["gone"] = nil  // slot 0 is a gap now
    graph.nodes = [node("m", "Mul", ["x", "w"], ["p"]), node("c", "Conv", ["p", "w", "", "b"], ["y"])]
    let index = GraphIndex(graph)
    #expect(index.lookup("w").slot == 1)
    #expect(index.lookup("b").slot == 2)
    #expect(index.lookup("p").slot == -1)
    #expect(index.lookup("gone").slot == -1)
    // Ids in input order, omitted inputs skipped; each id answers what its name answers.
    let ids = Array(index.inputIDs(ofNode: 1))
    #expect(ids.count == 3)
    for (id, name) in zip(ids, ["p", "w", "b"]) {
        let byID = index.lookup(id: Int(id)), byName = index.lookup(name)
        #expect(byID.produced == byName.produced && byID.slot == byName.slot && byID.readers == byName.readers)
    }
    #expect(index.inputID(2, ofNode: 1) == nil)
    #expect(index.inputID(3, ofNode: 1) == Int(ids[2]))
    #expect(index.inputID(9, ofNode: 1) == nil)
    // Weights by slot are the tensors the table holds by name.
    #expect(index.constantInput(1, ofNode: 1) == graph.initializers["w"])
    #expect(index.constantInput(3, ofNode: 1) == graph.initializers["b"])
    #expect(index.constantInput(0, ofNode: 1) == nil)
    #expect(index.isWellFormedInOrder)
}

/// `isWellFormedInOrder` is the verifier's quick test (rules 1–4 with every node reading only
/// earlier values): each defect the verifier names makes it false, a well-formed graph listed out
/// of order too, and a well-formed ordered graph (an initializer also listed as an input, as IR
/// version < 4 files do, included) makes it true.
@Test func theTableTellsAWellFormedOrderedGraphAsTheVerifierDoes() throws {
    func graph(inputs: [String] = ["x"], outputs: [String] = ["y"], initializers: [String] = ["w"], _ nodes: [Node]) throws -> Graph {
        var graph = Graph(inputs: inputs.map { Value(name: $0) }, outputs: outputs.map { Value(name: $0) })
        for name in initializers { graph.initializers[name] = try Tensor(float32: [1], shape: [1]) }
        graph.nodes = nodes
        return graph
    }
    let ordered = [node("a", "Mul", ["x", "w"], ["p"]), node("b", "Relu", ["p"], ["y"])]
    let cases: [(String, Graph, Bool)] = [
        ("ordered", try graph(ordered), true),
        ("weight listed as input", try graph(inputs: ["x", "w"], ordered), true),
        ("out of order", try graph(Array(ordered.reversed())), false),
        ("undefined input", try graph([node("a", "Mul", ["x", "v"], ["p"]), node("b", "Relu", ["p"], ["y"])]), false),
        ("defined twice", try graph([node("a", "Relu", ["x"], ["p"]), node("b", "Relu", ["x"], ["p"]), node("c", "Relu", ["p"], ["y"])]), false),
        ("output is a weight", try graph([node("a", "Relu", ["x"], ["w"]), node("b", "Relu", ["w"], ["y"])]), false),
        ("output is an input", try graph([node("a", "Relu", ["x"], ["x"]), node("b", "Relu", ["x"], ["y"])]), false),
        ("input listed twice", try graph(inputs: ["x", "x"], ordered), false),
        ("undefined graph output", try graph(outputs: ["y", "z"], ordered), false),
        ("reads itself", try graph([node("a", "Add", ["x", "p"], ["p"]), node("b", "Relu", ["p"], ["y"])]), false),
    ]
    for (label, graph, expected) in cases {
        let index = GraphIndex(graph)
        #expect(index.isWellFormedInOrder == expected, "\(label)")
        if expected { #expect(GraphVerifier.defects(in: graph).isEmpty, "\(label)") }
    }
    // Out of order but well formed: the verifier accepts it; the table only says it is not in order.
    #expect(GraphVerifier.defects(in: cases[2].1).isEmpty)
    for (label, graph, _) in cases[3...] { #expect(!GraphVerifier.defects(in: graph).isEmpty, "\(label)") }
}
