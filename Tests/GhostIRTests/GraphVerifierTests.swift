import GhostIR
import Testing

private func weight(_ values: [Float], _ shape: [Int]) throws -> Tensor {
    try Tensor(float32: values, shape: shape)
}

private func wellFormed() throws -> Graph {
    var initializers = InitializerTable()
    initializers["w"] = try weight([1, 2, 3, 4], [4])
    return Graph(
        inputs: [Value(name: "x", elementType: .float32, shape: [.symbolic("N"), .fixed(4)])],
        outputs: [Value(name: "y")],
        initializers: initializers,
        nodes: [Node(name: "Scale", opType: "Mul", inputs: ["x", "w"], outputs: ["y"])])
}

@Test func wellFormedGraphHasNoDefects() throws {
    #expect(GraphVerifier.defects(in: try wellFormed()).isEmpty)
}

@Test func initializerListedAsInputIsAllowed() throws {
    var graph = try wellFormed()
    graph.inputs.append(Value(name: "w", elementType: .float32, shape: [.fixed(4)]))
    #expect(GraphVerifier.defects(in: graph).isEmpty)
    #expect(graph.runtimeInputs.map(\.name) == ["x"])
}

@Test func valueDefinedTwiceIsReported() throws {
    var graph = try wellFormed()
    graph.nodes.append(Node(name: "Again", opType: "Relu", inputs: ["x"], outputs: ["y"]))
    let defects = GraphVerifier.defects(in: graph)
    #expect(defects == [.duplicateDefinition(value: "y", definedBy: ["node 'Scale'", "node 'Again'"])])
    #expect(defects.first?.code == "duplicate-value")
}

@Test func nodeOutputShadowingAnInputIsReported() throws {
    var graph = try wellFormed()
    graph.nodes.append(Node(name: "Shadow", opType: "Relu", inputs: ["y"], outputs: ["x"]))
    #expect(GraphVerifier.defects(in: graph).contains(.duplicateDefinition(value: "x", definedBy: ["graph input", "node 'Shadow'"])))
}

@Test func undefinedInputNamesNodeAndValue() throws {
    var graph = try wellFormed()
    graph.nodes[0].inputs[1] = "missing"
    #expect(GraphVerifier.defects(in: graph) == [.undefinedInput(node: "Scale", value: "missing")])
}

@Test func omittedOptionalInputIsNotUndefined() throws {
    var graph = try wellFormed()
    graph.nodes[0].inputs.append("")
    #expect(GraphVerifier.defects(in: graph).isEmpty)
}

@Test func undefinedOutputIsReported() throws {
    var graph = try wellFormed()
    graph.outputs.append(Value(name: "nowhere"))
    #expect(GraphVerifier.defects(in: graph) == [.undefinedOutput(value: "nowhere")])
}

@Test func cycleIsReportedByTheVerifier() throws {
    var graph = try wellFormed()
    graph.nodes.append(Node(name: "A", opType: "Relu", inputs: ["b"], outputs: ["a"]))
    graph.nodes.append(Node(name: "B", opType: "Relu", inputs: ["a"], outputs: ["b"]))
    let cycle = GraphVerifier.defects(in: graph).first { $0.code == "cycle" }
    guard case .cycle(let names) = cycle else {
        Issue.record("no cycle reported")
        return
    }
    #expect(Set(names) == ["A", "B"])
}

@Test(arguments: [
    (Value(name: "w", elementType: .int64, shape: [.fixed(4)]), "int64[4]"),
    (Value(name: "w", elementType: .float32, shape: [.fixed(2), .fixed(2)]), "float[2,2]"),
    (Value(name: "w", elementType: .float32, shape: [.fixed(5)]), "float[5]"),
])
func declaredTypeMustMatchInitializer(declared: Value, text: String) throws {
    var graph = try wellFormed()
    graph.valueInfo.append(declared)
    #expect(GraphVerifier.defects(in: graph) == [.typeMismatch(value: "w", declared: text, actual: "float[4]")])
}

@Test func symbolicDeclarationMatchesAnySize() throws {
    var graph = try wellFormed()
    graph.valueInfo.append(Value(name: "w", elementType: .float32, shape: [.symbolic("K")]))
    #expect(GraphVerifier.defects(in: graph).isEmpty)
}

/// The verifier takes a list whose nodes read only earlier outputs as acyclic without sorting;
/// a list out of order is sorted, and accepted when it has no cycle.
@Test func nodesOutOfOrderButAcyclicAreAccepted() throws {
    var graph = try wellFormed()
    graph.nodes.insert(Node(name: "Late", opType: "Relu", inputs: ["y"], outputs: ["z"]), at: 0)
    graph.outputs.append(Value(name: "z"))
    #expect(GraphVerifier.defects(in: graph).isEmpty)
}

@Test func nodeReadingItsOwnOutputIsACycle() throws {
    var graph = try wellFormed()
    graph.nodes.append(Node(name: "Loop", opType: "Add", inputs: ["y", "loop"], outputs: ["loop"]))
    let cycle = GraphVerifier.defects(in: graph).first { $0.code == "cycle" }
    guard case .cycle(let names) = cycle else {
        Issue.record("no cycle reported")
        return
    }
    #expect(names == ["Loop"])
}
