import GhostIR
import GhostMutation
import Testing

/// x → Conv (3 kernels over 2 input channels, 1×1... 1×2, bias) → Relu → y, with a dead Sigmoid
/// branch, and a BatchNormalization on the side feeding a second output.
private func fixture(identicalKernels: Bool = false, zeroBias: Bool = false) throws -> Graph {
    var initializers = InitializerTable()
    // W[o][i][0][k]: kernel 1 equals kernel 0 when asked.
    var weight: [Float] = [1, 2, 3, 4,   5, 6, 7, 8,   -1, -2, 0.5, 0.25]
    if identicalKernels { weight.replaceSubrange(4..<8, with: [1, 2, 3, 4]) }
    initializers["W"] = try Tensor(float32: weight, shape: [3, 2, 1, 2])
    initializers["b"] = try Tensor(float32: zeroBias ? [0, 0, 0] : [0.5, -0.5, 2], shape: [3])
    for name in ["gamma", "beta", "mean", "var"] { initializers[name] = try Tensor(float32: [1, 1, 1], shape: [3]) }
    return Graph(
        name: "fixture",
        inputs: [Value(name: "x", elementType: .float32, shape: [.fixed(1), .fixed(2), .fixed(1), .fixed(3)])],
        outputs: [Value(name: "y", elementType: .float32), Value(name: "z", elementType: .float32)],
        initializers: initializers,
        nodes: [Node(name: "conv", opType: "Conv", inputs: ["x", "W", "b"], outputs: ["c"]),
                Node(name: "relu", opType: "Relu", inputs: ["c"], outputs: ["y"]),
                Node(name: "dead", opType: "Sigmoid", inputs: ["c"], outputs: ["unused"]),
                Node(name: "bn", opType: "BatchNormalization", inputs: ["c", "gamma", "beta", "mean", "var"], outputs: ["z"],
                     attributes: [Attribute(name: "epsilon", value: .float(1e-5))])])
}

private func floats(_ graph: Graph, input: Int, of node: String) throws -> [Float] {
    let consumer = try #require(graph.nodes.first { $0.name == node })
    return try #require(graph.initializers[consumer.inputs[input]]).elements(as: Float.self)
}

@Test func scaleWeightScalesTheWholeKernelIntoANewInitializer() throws {
    let graph = try fixture()
    let mutated = try Mutant.scaleWeight(node: "conv", input: 1, factor: 1 + 1e-4).applied(to: graph)
    let expected: [Float] = [1, 2, 3, 4, 5, 6, 7, 8, -1, -2, 0.5, 0.25].map { Float(Double($0) * (1 + 1e-4)) }
    #expect(try floats(mutated, input: 1, of: "conv") == expected)
    #expect(mutated.initializers["W"] == graph.initializers["W"], "the original weight, which may feed other nodes, is untouched")
    #expect(mutated.nodes[0].inputs[1] == "W.mutant")
    #expect(mutated.nodes.map(\.name) == graph.nodes.map(\.name))
}

@Test func zeroBiasSwapKernelsAndPermuteChannelMoveTheRightNumbers() throws {
    let graph = try fixture()
    #expect(try floats(try Mutant.zeroBias(node: "conv").applied(to: graph), input: 2, of: "conv") == [0, 0, 0])
    // Kernels are 4 numbers each: kernel 0 and 2 exchange, the bias stays.
    let swapped = try Mutant.swapKernels(node: "conv", first: 0, second: 2).applied(to: graph)
    #expect(try floats(swapped, input: 1, of: "conv") == [-1, -2, 0.5, 0.25, 5, 6, 7, 8, 1, 2, 3, 4])
    #expect(try floats(swapped, input: 2, of: "conv") == [0.5, -0.5, 2])
    // Input channels are 2 numbers per kernel: each kernel's halves exchange.
    let permuted = try Mutant.permuteChannel(node: "conv", first: 0, second: 1).applied(to: graph)
    #expect(try floats(permuted, input: 1, of: "conv") == [3, 4, 1, 2, 7, 8, 5, 6, 0.5, 0.25, -1, -2])
}

@Test func activationAndEpsilonMutantsRewriteTheNodeInPlace() throws {
    let graph = try fixture()
    let relu6 = try Mutant.swapActivation(node: "relu", from: .relu, to: .relu6).applied(to: graph)
    let clip = try #require(relu6.nodes.first { $0.name == "relu" })
    #expect(clip.opType == "Clip" && clip.inputs.count == 3 && clip.outputs == ["y"])
    #expect(relu6.initializers[clip.inputs[1]]?.doubleValues() == [0])
    #expect(relu6.initializers[clip.inputs[2]]?.doubleValues() == [6])

    var old = graph
    old.opsetImports = [OpsetImport(domain: "", version: 9)]
    let attributeClip = try Mutant.swapActivation(node: "relu", from: .relu, to: .relu6).applied(to: old)
    #expect(attributeClip.nodes[1].attribute("max")?.floatValue == 6, "before opset 11 Clip takes attributes")

    let leaky = try Mutant.swapActivation(node: "relu", from: .relu, to: .leakyRelu(alpha: 0.01)).applied(to: graph)
    #expect(leaky.nodes[1].opType == "LeakyRelu" && leaky.nodes[1].attribute("alpha")?.floatValue == 0.01)

    // Swish is two nodes; the one writing the output keeps the name, so a divergence names it.
    var hardSwish = graph
    hardSwish.nodes[1].opType = "HardSwish"
    let swish = try Mutant.swapActivation(node: "relu", from: .hardSwish, to: .swish).applied(to: hardSwish)
    #expect(swish.nodes.map(\.opType) == ["Conv", "Sigmoid", "Mul", "Sigmoid", "BatchNormalization"])
    #expect(swish.nodes[2].name == "relu" && swish.nodes[2].outputs == ["y"] && swish.nodes[2].inputs == ["c", swish.nodes[1].outputs[0]])

    let epsilon = try Mutant.changeEpsilon(node: "bn", from: 1e-5, to: 1e-3).applied(to: graph)
    #expect(epsilon.nodes[3].attribute("epsilon")?.floatValue == 1e-3)
}

@Test func mutantsThatCannotBePlantedAreTypedErrors() throws {
    let graph = try fixture()
    #expect(throws: MutationError.nodeNotFound("nope")) { try Mutant.zeroBias(node: "nope").applied(to: graph) }
    #expect(throws: MutationError.self) { try Mutant.swapKernels(node: "conv", first: 0, second: 3).applied(to: graph) }
    #expect(throws: MutationError.self) { try Mutant.changeEpsilon(node: "conv", from: 1e-5, to: 1e-3).applied(to: graph) }
    #expect(throws: MutationError.self) { try Mutant.swapActivation(node: "bn", from: .relu, to: .relu6).applied(to: graph) }
    #expect(throws: MutationError.self) { try Mutant.zeroBias(node: "relu").applied(to: graph) }
    do {
        _ = try Mutant.permuteChannel(node: "conv", first: 0, second: 2).applied(to: graph)
        Issue.record("channel 2 of a 2-channel weight was accepted")
    } catch {
        #expect(error.code == "mutation-not-applicable")
    }
}

@Test func pickerIsDeterministicAndAvoidsDeadAndEquivalentSites() throws {
    let graph = try fixture()
    let picker = MutantPicker(graph: graph, seed: 7)
    for kind in Mutant.Kind.allCases {
        #expect(picker.pick(kind, count: 3) == MutantPicker(graph: graph, seed: 7).pick(kind, count: 3), "\(kind)")
    }
    // The dead Sigmoid is never picked; the Relu is the only live activation.
    #expect(picker.pick(.swapActivation, count: 5).mutants == [.swapActivation(node: "relu", from: .relu, to: .relu6)])
    #expect(picker.equivalence(of: .swapActivation(node: "dead", from: .sigmoid, to: .hardSigmoid(alpha: 0.2, beta: 0.5)))?
        .contains("dead branch") == true)
    #expect(picker.pick(.changeEpsilon).mutants == [.changeEpsilon(node: "bn", from: Double(Float(1e-5)), to: 1e-3)])

    // Kernels 0 and 1 identical: every pick pairs kernel 2 with one of them.
    let twins = MutantPicker(graph: try fixture(identicalKernels: true), seed: 0)
    for seed in 0..<16 as Range<UInt64> {
        let pick = MutantPicker(graph: try fixture(identicalKernels: true), seed: seed).pick(.swapKernels)
        guard case .swapKernels(_, let first, let second) = try #require(pick.mutants.first) else { Issue.record("\(pick)"); continue }
        #expect(Set([first, second]).contains(2), "seed \(seed): \(first), \(second)")
    }
    #expect(twins.equivalence(of: .swapKernels(node: "conv", first: 0, second: 1))?.hasPrefix("identical kernels") == true)
    #expect(twins.equivalence(of: .swapKernels(node: "conv", first: 0, second: 2)) == nil)
}

@Test func pickerReportsNoSiteAndFallsBackToAnEquivalentMutantWithItsReason() throws {
    // A zero bias is the only bias: the one mutant is returned, flagged equivalent.
    let zero = MutantPicker(graph: try fixture(zeroBias: true))
    let pick = zero.pick(.zeroBias)
    #expect(pick.mutants == [.zeroBias(node: "conv")] && pick.noSite == nil)
    #expect(zero.equivalence(of: .zeroBias(node: "conv")) == "the bias is already zero")

    var folded = try fixture()
    folded.nodes.removeLast()
    folded.outputs.removeLast()
    let none = MutantPicker(graph: folded).pick(.changeEpsilon)
    #expect(none.mutants.isEmpty)
    #expect(none.noSite?.contains("BatchNormalization") == true)
}

@Test func observedRangesDecideBetweenRelu6AndLeakyRelu() throws {
    let graph = try fixture()
    // Inputs of the Relu never above 6: Relu6 would change nothing, so LeakyRelu is planted.
    let small = MutantPicker(graph: graph, ranges: ["c": ValueRange(min: -3, max: 5.5)])
    #expect(small.pick(.swapActivation).mutants == [.swapActivation(node: "relu", from: .relu, to: .leakyRelu(alpha: 0.01))])
    #expect(small.equivalence(of: .swapActivation(node: "relu", from: .relu, to: .relu6))?.contains("exceeds 6") == true)
    // Never negative and never above 6: both agree with Relu; one is returned with its reason.
    let positive = MutantPicker(graph: graph, ranges: ["c": ValueRange(min: 0, max: 2)])
    let fallback = try #require(positive.pick(.swapActivation).mutants.first)
    #expect(positive.equivalence(of: fallback) != nil)
    let large = MutantPicker(graph: graph, ranges: ["c": ValueRange(min: -1, max: 9)])
    #expect(large.pick(.swapActivation).mutants == [.swapActivation(node: "relu", from: .relu, to: .relu6)])

    #expect(ValueRange.merging(nil, [3, .nan, -2, .infinity]) == ValueRange(min: -2, max: 3))
    #expect(ValueRange.merging(ValueRange(min: -5, max: 0), [1]) == ValueRange(min: -5, max: 1))
}

@Test func reachFindsDownstreamNodes() throws {
    let graph = try fixture()
    let reach = GraphReach(graph)
    #expect(reach.live() == ["conv", "relu", "bn"])
    #expect(reach.downstream(of: "conv") == ["relu", "dead", "bn"])
    #expect(reach.downstream(of: "relu").isEmpty)
}
