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
    let table = ValueTable(nodes)
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
    #expect(table.producerAndReaders(of: "q").produced)
    #expect(!table.producerAndReaders(of: "x").produced)
    #expect(table.producerAndReaders(of: "r").readers == [3])
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
        let edits = try #require(editor.finish())
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
