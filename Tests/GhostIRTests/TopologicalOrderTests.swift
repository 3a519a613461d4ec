import GhostIR
import Testing

private func relu(_ name: String, _ input: String, _ output: String) -> Node {
    Node(name: name, opType: "Relu", inputs: [input], outputs: [output])
}

@Test func graphInOrderKeepsItsOrder() throws {
    let graph = Graph(inputs: [Value(name: "x")], outputs: [Value(name: "c")],
                      nodes: [relu("A", "x", "a"), relu("B", "a", "b"), relu("C", "b", "c")])
    #expect(try graph.topologicalOrder() == [0, 1, 2])
}

@Test func reversedChainIsSorted() throws {
    let graph = Graph(inputs: [Value(name: "x")], outputs: [Value(name: "c")],
                      nodes: [relu("C", "b", "c"), relu("B", "a", "b"), relu("A", "x", "a")])
    #expect(try graph.topologicalOrder() == [2, 1, 0])
}

@Test func tiesAreBrokenByFileOrder() throws {
    // Two independent branches interleaved: D only needs x, so it comes right after its turn.
    let nodes = [
        relu("B2", "a", "b"),
        Node(name: "D", opType: "Relu", inputs: ["x"], outputs: ["d"]),
        relu("A", "x", "a"),
        Node(name: "Join", opType: "Add", inputs: ["b", "d"], outputs: ["y"]),
    ]
    let graph = Graph(inputs: [Value(name: "x")], outputs: [Value(name: "y")], nodes: nodes)
    #expect(try graph.topologicalOrder() == [1, 2, 0, 3])
}

@Test func nodeReadingOneValueTwiceIsOrderedOnce() throws {
    let nodes = [
        Node(name: "Square", opType: "Mul", inputs: ["a", "a"], outputs: ["y"]),
        relu("A", "x", "a"),
    ]
    let graph = Graph(inputs: [Value(name: "x")], outputs: [Value(name: "y")], nodes: nodes)
    #expect(try graph.topologicalOrder() == [1, 0])
}

@Test func cycleNamesTheNodesOnIt() {
    let nodes = [
        relu("Entry", "x", "e"),
        Node(name: "P", opType: "Add", inputs: ["e", "q"], outputs: ["p"]),
        relu("Q", "p", "q"),
        relu("Downstream", "q", "y"),
    ]
    let graph = Graph(inputs: [Value(name: "x")], outputs: [Value(name: "y")], nodes: nodes)
    #expect(throws: GraphValidationError.self) { try graph.topologicalOrder() }
    do {
        _ = try graph.topologicalOrder()
    } catch {
        guard case .cycle(let names) = error else {
            Issue.record("expected a cycle, got \(error)")
            return
        }
        #expect(Set(names) == ["P", "Q"])
        #expect(error.code == "cycle")
    }
}

@Test func selfLoopIsACycle() {
    let graph = Graph(inputs: [Value(name: "x")], outputs: [Value(name: "a")],
                      nodes: [Node(name: "Loop", opType: "Add", inputs: ["x", "a"], outputs: ["a"])])
    #expect(throws: GraphValidationError.cycle(nodes: ["Loop"])) { try graph.topologicalOrder() }
}

@Test func largeChainSortsInLinearishTime() throws {
    // 20 000 nodes in reverse file order: quadratic sorting would take far longer than the test.
    let count = 20_000
    let nodes = (0..<count).reversed().map { index in
        relu("N\(index)", index == 0 ? "x" : "v\(index - 1)", "v\(index)")
    }
    let graph = Graph(inputs: [Value(name: "x")], outputs: [Value(name: "v\(count - 1)")], nodes: nodes)
    let order = try graph.topologicalOrder()
    #expect(order.first == count - 1)
    #expect(order.last == 0)
}
