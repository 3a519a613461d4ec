@testable import GhostIR
import Testing

// The verifier's sweep finds most inputs without hashing: an activation among the last four node
// outputs, a weight in the initializer slot after the last one matched. These are shortcuts to
// "defined" only: every graph must get the verdict it gets without them.

/// `units` × (Mul by a weight → Add a bias → Relu); weights listed in use order unless
/// `shuffledWeights`, which lists them reversed.
private func chain(units: Int, shuffledWeights: Bool = false) throws -> Graph {
    var names: [String] = []
    var nodes: [Node] = []
    var value = "x"
    for unit in 0..<units {
        names += ["w\(unit)", "b\(unit)"]
        nodes.append(Node(name: "mul\(unit)", opType: "Mul", inputs: [value, "w\(unit)"], outputs: ["m\(unit)"]))
        nodes.append(Node(name: "add\(unit)", opType: "Add", inputs: ["m\(unit)", "b\(unit)"], outputs: ["a\(unit)"]))
        nodes.append(Node(name: "relu\(unit)", opType: "Relu", inputs: ["a\(unit)"], outputs: ["r\(unit)"]))
        value = "r\(unit)"
    }
    var initializers = InitializerTable()
    for (index, name) in (shuffledWeights ? names.reversed() : names).enumerated() {
        initializers[name] = try Tensor(float32: [Float(index)], shape: [1])
    }
    return Graph(inputs: [Value(name: "x", elementType: .float32, shape: [.fixed(1)])],
                 outputs: [Value(name: value)], initializers: initializers, nodes: nodes)
}

private func verify(_ graph: Graph) -> (defects: [GraphValidationError], counter: GraphScanCounter) {
    let counter = GraphScanCounter()
    let defects = GraphScanCounter.$current.withValue(counter) { GraphVerifier.defects(in: graph) }
    return (defects, counter)
}

@Test func weightsInUseOrderAndRecentActivationsNeedNoLookup() throws {
    let (defects, counter) = verify(try chain(units: 1000))
    #expect(defects.isEmpty)
    #expect(counter.detailedVerifications == 0)
    #expect(counter.verifierInputLookups == 1)  // only mul0's x, a graph input
    // 3 nodes × (inputs + outputs) = 2+1 + 2+1 + 1+1 per unit.
    #expect(counter.verifierSteps == 8 * 1000)
}

@Test func weightsInAnotherOrderAreLookedUpAndStillAccepted() throws {
    let (defects, counter) = verify(try chain(units: 1000, shuffledWeights: true))
    #expect(defects.isEmpty)
    #expect(counter.detailedVerifications == 0)
    // Reversed, no weight but w998 (slot 3) is within four slots of the last match: x and 1999
    // weights are looked up.
    #expect(counter.verifierInputLookups == 2000)
}

@Test func anActivationOlderThanTheLastFourOutputsIsLookedUp() throws {
    var graph = try chain(units: 10)
    // relu9 reads x (a graph input) and m0 (ten nodes back) as well: both need the tables.
    graph.nodes[29].inputs += ["x", "m0"]
    let (defects, counter) = verify(graph)
    #expect(defects.isEmpty)
    #expect(counter.verifierInputLookups == 1 + 2)  // mul0 reads x; relu9 reads x and m0
}

@Test func shortcutsDoNotHideDefects() throws {
    // A weight name that is the next slot's but misspelled, an input read before it is made
    // (the producer comes later), an output that repeats a recent one, an output that is a weight.
    var misspelled = try chain(units: 5)
    misspelled.nodes[3].inputs[1] = "w1 "
    #expect(verify(misspelled).defects == [.undefinedInput(node: "mul1", value: "w1 ")])

    var early = try chain(units: 5)
    early.nodes.append(Node(name: "late", opType: "Relu", inputs: ["x"], outputs: ["late"]))
    early.nodes[4].inputs[0] = "late"  // add1 reads the output of a node listed last
    let (earlyDefects, earlyCounter) = verify(early)
    #expect(earlyCounter.detailedVerifications == 1)
    #expect(earlyDefects.isEmpty)  // acyclic, merely out of order: accepted by the examination

    var repeated = try chain(units: 5)
    repeated.nodes[5].outputs[0] = "m1"  // relu1 redefines mul1's output, four outputs back
    #expect(verify(repeated).defects.contains(.duplicateDefinition(value: "m1", definedBy: ["node 'mul1'", "node 'relu1'"])))

    var weightOutput = try chain(units: 5)
    weightOutput.nodes[2].outputs[0] = "w1"  // relu0's output is the next weight's name
    #expect(verify(weightOutput).defects.contains(.duplicateDefinition(value: "w1", definedBy: ["initializer", "node 'relu0'"])))
}

@Test func removedInitializersLeaveSlotsTheSweepSkips() throws {
    var graph = try chain(units: 100)
    // Remove every other bias and re-add it at the end: gaps in the slots, order broken.
    for unit in stride(from: 0, to: 100, by: 2) {
        let tensor = try #require(graph.initializers["b\(unit)"])
        graph.initializers["b\(unit)"] = nil
        graph.initializers["b\(unit)"] = tensor
    }
    let (defects, counter) = verify(graph)
    #expect(defects.isEmpty)
    #expect(counter.verifierInputLookups >= 50)
    graph.initializers["w7"] = nil
    #expect(verify(graph).defects == [.undefinedInput(node: "mul7", value: "w7")])
}

/// `branches` × (Mul of x by a weight) read by one Concat: its inputs are activations that are
/// neither recent nor weights, the case where the sweep asks the value set first.
private func wideConcat(branches: Int, extraInputs: [String] = []) throws -> Graph {
    var nodes: [Node] = []
    var initializers = InitializerTable()
    for branch in 0..<branches {
        initializers["w\(branch)"] = try Tensor(float32: [Float(branch)], shape: [1])
        nodes.append(Node(name: "mul\(branch)", opType: "Mul", inputs: ["x", "w\(branch)"], outputs: ["m\(branch)"]))
    }
    let inputs = (0..<branches).map { "m\($0)" } + extraInputs
    nodes.append(Node(name: "concat", opType: "Concat", inputs: inputs, outputs: ["y"]))
    return Graph(inputs: [Value(name: "x", elementType: .float32, shape: [.fixed(1)])],
                 outputs: [Value(name: "y")], initializers: initializers, nodes: nodes)
}

@Test func aWideConcatOfActivationsIsWellFormed() throws {
    let (defects, counter) = verify(try wideConcat(branches: 500))
    #expect(defects.isEmpty)
    #expect(counter.detailedVerifications == 0)
}

@Test func aWideConcatStillFindsAnUndefinedInputAndAWeightAfterActivations() throws {
    // After many activations, a weight must still count as defined and a misspelled name not.
    let (weightDefects, _) = verify(try wideConcat(branches: 300, extraInputs: ["w7", "m3"]))
    #expect(weightDefects.isEmpty)
    let (defects, counter) = verify(try wideConcat(branches: 300, extraInputs: ["w7", "m-typo", "m4"]))
    #expect(defects == [.undefinedInput(node: "concat", value: "m-typo")])
    #expect(counter.detailedVerifications == 1)
}
