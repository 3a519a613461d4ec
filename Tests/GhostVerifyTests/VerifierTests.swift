import GhostIR
@testable import GhostVerify
import Testing

/// Evaluates graphs of elementwise Mul/Add/Relu over float64 values: enough to exercise the
/// verifier's control flow without the real interpreter.
struct ElementwiseExecutor: GraphExecutor {
    func execute(_ graph: Graph, inputs: [String: Tensor], intermediates: Bool) throws -> [String: Tensor] {
        var values = inputs
        for entry in graph.initializers { values[entry.name] = entry.tensor }
        for node in try graph.topologicallySortedNodes() {
            let operands = node.inputs.map { values[$0]!.doubleValues() }
            let shape = values[node.inputs[0]]!.shape
            let result: [Double] = switch node.opType {
            case "Mul": zip(operands[0], operands.count > 1 ? cycle(operands[1], operands[0].count) : []).map(*)
            case "Add": zip(operands[0], cycle(operands[1], operands[0].count)).map(+)
            default: operands[0].map { max($0, 0) }
            }
            values[node.outputs[0]] = try Tensor(float64: result, shape: shape)
        }
        return intermediates ? values : values.filter { key, _ in graph.outputs.contains { $0.name == key } }
    }

    private func cycle(_ values: [Double], _ count: Int) -> [Double] {
        (0..<count).map { values[$0 % values.count] }
    }
}

private func chain(scales: [Double], names: [String] = ["m1", "m2"], fusedFrom: [[String]] = [[], []]) throws -> Graph {
    var initializers = InitializerTable()
    var nodes: [Node] = []
    var previous = "x"
    for (index, scale) in scales.enumerated() {
        initializers["s\(index)"] = try Tensor(float64: [scale], shape: [1])
        let output = index == scales.count - 1 ? "y" : names[index]
        nodes.append(Node(name: "Mul_\(index)", opType: "Mul", inputs: [previous, "s\(index)"], outputs: [output], fusedFrom: fusedFrom[index]))
        previous = output
    }
    return Graph(inputs: [Value(name: "x", elementType: .float64, shape: [.fixed(2), .fixed(3)])],
                 outputs: [Value(name: "y", elementType: .float64)], initializers: initializers, nodes: nodes)
}

private func samples(_ count: Int, for graph: Graph) throws -> [[String: Tensor]] {
    var random = RandomInputs(seed: 0)
    return try (0..<count).map { _ in try random.sample(for: graph) }
}

@Test func equalGraphsAreEquivalent() throws {
    let original = try chain(scales: [2, 3])
    let fused = try chain(scales: [6], fusedFrom: [["Mul_0", "Mul_1"]])
    let result = try Verifier(executor: ElementwiseExecutor()).verify(original: original, fused: fused, samples: try samples(4, for: original))
    #expect(result.equivalent)
    #expect(result.samples.count == 4)
    #expect(result.worstRelativeError < 1e-15)
    #expect(result.firstDivergence == nil)
}

@Test func perturbedWeightIsNotEquivalentAndIsLocalized() throws {
    let original = try chain(scales: [2, 3, 5], names: ["m1", "m2"], fusedFrom: [[], [], []])
    // The second multiply is off by 1e-4 relative: m1 still agrees, m2 and y do not.
    let fused = try chain(scales: [2, 3 * (1 + 1e-4), 5], names: ["m1", "m2"], fusedFrom: [[], ["Mul_1", "BN_7"], []])
    let result = try Verifier(executor: ElementwiseExecutor()).verify(original: original, fused: fused, samples: try samples(2, for: original))
    #expect(!result.equivalent)
    #expect(abs(result.worstRelativeError - 1e-4) < 1e-9)
    let divergence = try #require(result.firstDivergence)
    #expect(divergence.node == "Mul_1")
    #expect(divergence.value == "m2")
    #expect(divergence.fusedFrom == ["Mul_1", "BN_7"])
}

@Test func allcloseIsAnAlternativeCriterion() throws {
    let original = try chain(scales: [2, 3])
    let fused = try chain(scales: [2, 3 * (1 + 1e-6)])
    let inputs = try samples(1, for: original)
    let loose = try Verifier(executor: ElementwiseExecutor(), tolerance: .allclose(atol: 1e-3, rtol: 0)).verify(original: original, fused: fused, samples: inputs)
    #expect(loose.equivalent)
    let strict = try Verifier(executor: ElementwiseExecutor(), tolerance: .allclose(atol: 0, rtol: 1e-9)).verify(original: original, fused: fused, samples: inputs)
    #expect(!strict.equivalent)
}

@Test func differentInterfacesAreUsageErrors() throws {
    let original = try chain(scales: [2, 3])
    var renamed = try chain(scales: [6])
    renamed.outputs[0].name = "z"
    renamed.nodes[0].outputs = ["z"]
    #expect(throws: VerifyError.outputsDiffer(original: ["y"], fused: ["z"])) {
        try Verifier(executor: ElementwiseExecutor()).checkInterfaces(original: original, fused: renamed)
    }
    var reshaped = try chain(scales: [6])
    reshaped.inputs[0].shape = [.fixed(3), .fixed(2)]
    #expect(throws: VerifyError.self) { try Verifier(executor: ElementwiseExecutor()).checkInterfaces(original: original, fused: reshaped) }
}

@Test func comparisonFigures() throws {
    let a = try Tensor(float64: [1, -4, 2, 0.5], shape: [2, 2])
    let b = try Tensor(float64: [1, -4.002, 2, 0.5], shape: [2, 2])
    let comparison = Comparison.compare(expected: a, actual: b)
    #expect(abs(comparison.maxAbsoluteError - 0.002) < 1e-12)
    #expect(abs(comparison.relativeError - 0.0005) < 1e-12)
    #expect(comparison.worstIndex == [0, 1])
    #expect(comparison.expectedAtWorst == -4 && comparison.actualAtWorst == -4.002)
    #expect(comparison.cosineSimilarity > 0.99999 && comparison.cosineSimilarity < 1)
}

@Test func nanWhereTheOriginalIsFiniteFails() throws {
    let a = try Tensor(float64: [1, 2], shape: [2])
    let b = try Tensor(float64: [1, .nan], shape: [2])
    let comparison = Comparison.compare(expected: a, actual: b)
    #expect(comparison.nonFiniteMismatch)
    #expect(!Tolerance.relative(1e-5).accepts(comparison))
    #expect(comparison.worstIndex == [1])
}

@Test func randomInputsAreDeterministicAndNormal() throws {
    var first = RandomInputs(seed: 42), second = RandomInputs(seed: 42)
    let a = first.normal(count: 20_000), b = second.normal(count: 20_000)
    #expect(a == b)
    let mean = a.reduce(0, +) / Double(a.count)
    let variance = a.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(a.count)
    #expect(abs(mean) < 0.03)
    #expect(abs(variance - 1) < 0.05)
}

@Test func symbolicDimensionNeedsAShape() throws {
    let graph = Graph(inputs: [Value(name: "x", elementType: .float32, shape: [.symbolic("batch"), .fixed(3)])],
                      outputs: [Value(name: "x")])
    var random = RandomInputs(seed: 0)
    #expect(throws: VerifyError.unboundShape(input: "x", dimension: "'batch'")) { try random.sample(for: graph) }
    let bound = try random.sample(for: graph, shapes: ["x": [2, 3]])
    #expect(bound["x"]?.shape == [2, 3])
}
