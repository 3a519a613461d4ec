@testable import GhostIR
import Testing

// The verifier runs at load and after every rewriting pass: on a well-formed graph in order it
// must make one sweep (one step per node input and output) and never fall back to the
// rule-by-rule examination; that examination is kept for defects and for lists out of order.

/// `units` × (Mul by a weight → Relu), in order; `reversed` lists the nodes backwards.
private func chain(units: Int, reversed: Bool = false) throws -> Graph {
    var initializers = InitializerTable()
    var nodes: [Node] = []
    var value = "x"
    for unit in 0..<units {
        initializers["w\(unit)"] = try Tensor(float32: [Float(unit)], shape: [1])
        nodes.append(Node(name: "mul\(unit)", opType: "Mul", inputs: [value, "w\(unit)"], outputs: ["m\(unit)"]))
        nodes.append(Node(name: "relu\(unit)", opType: "Relu", inputs: ["m\(unit)"], outputs: ["r\(unit)"]))
        value = "r\(unit)"
    }
    return Graph(inputs: [Value(name: "x", elementType: .float32, shape: [.fixed(1)])],
                 outputs: [Value(name: value)], initializers: initializers,
                 nodes: reversed ? nodes.reversed() : nodes)
}

private func verify(_ graph: Graph) -> (defects: [GraphValidationError], counter: GraphScanCounter) {
    let counter = GraphScanCounter()
    let defects = GraphScanCounter.$current.withValue(counter) { GraphVerifier.defects(in: graph) }
    return (defects, counter)
}

@Test func verifyingAnOrderedGraphIsOneSweep() throws {
    for units in [100, 10_000] {
        let (defects, counter) = verify(try chain(units: units))
        #expect(defects.isEmpty)
        #expect(counter.verifications == 1)
        #expect(counter.detailedVerifications == 0)
        // Mul: 2 inputs + 1 output, Relu: 1 + 1.
        #expect(counter.verifierSteps == 5 * units)
        // No topological sort and no index build either.
        #expect(counter.scans == 0)
    }
}

@Test func aGraphOutOfOrderIsExaminedRuleByRuleAndStillAccepted() throws {
    let (defects, counter) = verify(try chain(units: 50, reversed: true))
    #expect(defects.isEmpty)
    #expect(counter.detailedVerifications == 1)
    #expect(counter.scans == 2)  // the sort's producer index and its dependency scan
}

@Test func theQuickSweepLeavesDefectsToTheDetailedExamination() throws {
    var graph = try chain(units: 20)
    graph.nodes[5].inputs[0] = "nowhere"
    graph.nodes.append(Node(name: "again", opType: "Relu", inputs: ["x"], outputs: ["m3"]))
    graph.valueInfo.append(Value(name: "w2", elementType: .int64, shape: [.fixed(1)]))
    let (defects, counter) = verify(graph)
    #expect(counter.detailedVerifications == 1)
    #expect(defects == [
        .duplicateDefinition(value: "m3", definedBy: ["node 'mul3'", "node 'again'"]),
        .undefinedInput(node: "relu2", value: "nowhere"),
        .typeMismatch(value: "w2", declared: "int64[1]", actual: "float[1]"),
    ])
}

@Test func aWeightShadowedByANodeOutputIsADuplicate() throws {
    var graph = try chain(units: 3)
    graph.nodes[1].outputs = ["w2"]
    graph.nodes[2].inputs[0] = "w2"
    let (defects, _) = verify(graph)
    #expect(defects.first == .duplicateDefinition(value: "w2", definedBy: ["initializer", "node 'relu0'"]))
}
