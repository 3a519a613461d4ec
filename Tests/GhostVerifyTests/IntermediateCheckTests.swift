import GhostIR
@testable import GhostVerify
import Testing

/// x [2, 3] → Mul(a) "m1" → Mul(b) "m2" → Add(c) "y": with b small and c large the output damps
/// any change of m1 (rel at y ≈ rel at m1 · |b·m1| / |c|).
private func damped(a: Double, b: Double = 0.01, c: Double = 100, fusedFirst: Bool = false) throws -> Graph {
    var initializers = InitializerTable()
    initializers["a"] = try Tensor(float64: [a], shape: [1])
    initializers["b"] = try Tensor(float64: [b], shape: [1])
    initializers["c"] = try Tensor(float64: [c], shape: [1])
    var nodes = [Node(name: "Mul_0", opType: "Mul", inputs: ["x", "a"], outputs: ["m1"]),
                 Node(name: "Mul_1", opType: "Mul", inputs: ["m1", "b"], outputs: ["m2"]),
                 Node(name: "Add_2", opType: "Add", inputs: ["m2", "c"], outputs: ["y"])]
    if fusedFirst {
        // The two products folded into one that keeps the last one's output name.
        initializers["ab"] = try Tensor(float64: [a * b], shape: [1])
        nodes = [Node(name: "Mul_0_1", opType: "Mul", inputs: ["x", "ab"], outputs: ["m2"], fusedFrom: ["Mul_0", "Mul_1"]), nodes[2]]
    }
    return Graph(inputs: [Value(name: "x", elementType: .float64, shape: [.fixed(2), .fixed(3)])],
                 outputs: [Value(name: "y", elementType: .float64)], initializers: initializers, nodes: nodes)
}

private func samples(_ count: Int, for graph: Graph) throws -> [[String: Tensor]] {
    var random = RandomInputs(seed: 0)
    return try (0..<count).map { _ in try random.sample(for: graph) }
}

@Test(arguments: [true, false])
func aDefectTheOutputsDampIsCaughtOnlyByTheIntermediateCheck(double: Bool) throws {
    let original = try damped(a: 2)
    let mutant = try damped(a: 2 * (1 + 1e-4))
    let inputs = try samples(3, for: original)
    let executor = InterpreterExecutor(precision: double ? .float64 : .float32)
    let outputsOnly = try Verifier(executor: executor).verify(original: original, fused: mutant, samples: inputs)
    #expect(outputsOnly.equivalent, "rel at y is ~1e-8: the outputs alone miss it")
    #expect(outputsOnly.worstRelativeError < 1e-6)
    #expect(outputsOnly.intermediates == nil)

    let checked = try Verifier(executor: executor, checksIntermediates: true).verify(original: original, fused: mutant, samples: inputs)
    #expect(!checked.equivalent)
    #expect(checked.outputsPass)
    let check = try #require(checked.intermediates)
    #expect(check.compared == 2)  // m1 and m2; y is an output, x an input
    #expect(check.failed == 6)  // both values on each of 3 samples
    let worst = try #require(check.worst)
    // m1 and m2 both move by exactly 1e-4 relative (float32 rounds it to ~1e-4 ± 1e-7).
    #expect(abs(worst.comparison.relativeError - 1e-4) < (double ? 1e-12 : 2e-6))
    let divergence = try #require(checked.firstDivergence)
    #expect(divergence.node == "Mul_0")
    #expect(divergence.value == "m1")
}

@Test func aCorrectFusionPassesTheIntermediateCheck() throws {
    let original = try damped(a: 2)
    let fused = try damped(a: 2, fusedFirst: true)
    let result = try Verifier(executor: InterpreterExecutor(precision: .float64), checksIntermediates: true)
        .verify(original: original, fused: fused, samples: try samples(4, for: original))
    #expect(result.equivalent)
    let check = try #require(result.intermediates)
    #expect(check.compared == 1)  // only m2 exists in both graphs
    #expect(check.failed == 0)
    #expect(check.worst?.value == "m2")
    #expect((check.worst?.comparison.relativeError ?? 1) < 1e-15)
    #expect(result.firstDivergence == nil)
}

@Test func aSummaryIsBoundedStratifiedAndExactForSmallValues() throws {
    let count = 100_003
    let values = (0..<count).map { Double($0 % 1000) - 400 }  // max |x| = 599
    let tensor = try Tensor(float64: values, shape: [count])
    let summarizer = ValueSummarizer()
    let summary = try #require(summarizer.summary(of: tensor))
    #expect(summary.positions.count == ValueSummarizer.defaultLimit)
    #expect(summary.values.count == ValueSummarizer.defaultLimit)
    #expect(summary.maxMagnitude == 599)
    #expect(summary.positions == summary.positions.sorted())
    #expect(Set(summary.positions).count == summary.positions.count)
    // One position per stratum of count / 4096 ≈ 24.4 elements.
    let limit = ValueSummarizer.defaultLimit
    for (stratum, position) in summary.positions.enumerated() {
        #expect(position >= stratum * count / limit && position < (stratum + 1) * count / limit)
    }
    for (position, value) in zip(summary.positions, summary.values) { #expect(value == values[position]) }
    // The same element count gives the same positions (float32 too), so two graphs line up.
    let other = try #require(summarizer.summary(of: try Tensor(float32: values.map(Float.init), shape: [count])))
    #expect(other.positions == summary.positions)

    let small = try #require(summarizer.summary(of: try Tensor(float64: [1, -3, 2], shape: [3])))
    #expect(small.positions == [0, 1, 2])
    #expect(small.values == [1, -3, 2])
    // Integer values are not summarized.
    #expect(summarizer.summary(of: try Tensor(int64: [1, 2], shape: [2])) == nil)
    #expect(!summarizer.wants("i", try Tensor(int64: [1, 2], shape: [2])))
    #expect(ValueSummarizer(limit: 16).summary(of: tensor)?.positions.count == 16)
}

@Test func comparingSummariesUsesTheOutputsMetric() throws {
    let a = try Tensor(float64: [1, -4, 2, 0.5], shape: [2, 2])
    let b = try Tensor(float64: [1, -4, 2.002, 0.5], shape: [2, 2])
    let summarizer = ValueSummarizer()
    let whole = Comparison.compare(expected: a, actual: b)
    let summarized = Comparison.compare(expected: try #require(summarizer.summary(of: a)), actual: try #require(summarizer.summary(of: b)))
    #expect(summarized == whole)
    #expect(abs(summarized.relativeError - 0.002 / 4) < 1e-15)
    #expect(summarized.worstIndex == [1, 0])
    // A NaN on one side only is a mismatch; NaN on both is agreement.
    let nan = try Tensor(float64: [1, .nan, 2, 0.5], shape: [2, 2])
    let mismatch = Comparison.compare(expected: try #require(summarizer.summary(of: a)), actual: try #require(summarizer.summary(of: nan)))
    #expect(mismatch.nonFiniteMismatch && mismatch.relativeError == .infinity)
    #expect(!Tolerance.relative(1e-5).accepts(mismatch))
    let same = Comparison.compare(expected: try #require(summarizer.summary(of: nan)), actual: try #require(summarizer.summary(of: nan)))
    #expect(!same.nonFiniteMismatch && same.relativeError == 0)
    // allclose on the sampled elements.
    let loose = Comparison.compare(expected: try #require(summarizer.summary(of: a)), actual: try #require(summarizer.summary(of: b)),
                                   atol: 1e-2, rtol: 0)
    #expect(loose.allclose == true)
}

/// x → Mul "m1" → TopK → (values "t", indices "i"); t → Mul "m3" → Add "y".
@Test func valuesDownstreamOfASelectionAreNotCompared() throws {
    var initializers = InitializerTable()
    initializers["s"] = try Tensor(float64: [2], shape: [1])
    initializers["k"] = try Tensor(int64: [2], shape: [1])
    let graph = Graph(
        inputs: [Value(name: "x", elementType: .float64, shape: [.fixed(1), .fixed(4)])],
        outputs: [Value(name: "y", elementType: .float64)], initializers: initializers,
        nodes: [Node(name: "Mul_0", opType: "Mul", inputs: ["x", "s"], outputs: ["m1"]),
                Node(name: "TopK_1", opType: "TopK", inputs: ["m1", "k"], outputs: ["t", "i"]),
                Node(name: "Mul_2", opType: "Mul", inputs: ["t", "s"], outputs: ["m3"]),
                Node(name: "Add_3", opType: "Add", inputs: ["m3", "s"], outputs: ["y"])])
    let shared = try SharedValues(original: graph, fused: graph)
    #expect(shared.names == ["m1"])
    #expect(shared.skippedDownstreamOfSelection == 3)  // t, i, m3
    #expect(SharedValues.downstreamOfSelection(graph.nodes) == ["t", "i", "m3", "y"])

    // The run compares m1 only, and says how many it skipped.
    let result = try Verifier(executor: InterpreterExecutor(precision: .float64), checksIntermediates: true)
        .verify(original: graph, fused: graph, samples: try samples(1, for: graph))
    #expect(result.intermediates?.compared == 1)
    #expect(result.intermediates?.skippedDownstreamOfSelection == 3)
}

/// The observer sees every node output once, including values a Conv epilogue would absorb,
/// and the default (dictionary) path gives the same summaries.
@Test func theInterpreterObserverMatchesKeptIntermediates() throws {
    let graph = try damped(a: 3)
    let inputs = try samples(1, for: graph)[0]
    let summarizer = ValueSummarizer(names: ["m1", "m2"])
    let observed = try InterpreterExecutor(precision: .float64).observe(graph, inputs: inputs, keeping: ["m1"], summarizer: summarizer)
    #expect(Set(observed.summaries.keys) == ["m1", "m2"])
    #expect(Set(observed.values.keys) == ["y", "m1"])
    let viaDictionary = try ElementwiseExecutor().observe(graph, inputs: inputs, keeping: ["m1"], summarizer: summarizer)
    #expect(viaDictionary.summaries == observed.summaries)
}
