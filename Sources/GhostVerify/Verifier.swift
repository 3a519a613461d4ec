import GhostIR

/// Runs graphs for the verifier. The reference interpreter provides one (see `InterpreterExecutor`);
/// tests can supply others.
public protocol GraphExecutor: Sendable {
    /// Every value computed for `inputs`: the graph outputs, and every node output when
    /// `intermediates` is true.
    func execute(_ graph: Graph, inputs: [String: Tensor], intermediates: Bool) throws -> [String: Tensor]
}

/// Decides whether a fused graph computes what the original does, and if not, where they part.
public struct Verifier: Sendable {
    public let executor: any GraphExecutor
    public let tolerance: Tolerance
    /// Named values to compare instead of the graph outputs (`verify --compare`), for graphs
    /// whose outputs go through a data-dependent selection (TopK, ArgMax, NonZero): two equivalent
    /// graphs may select differently on rounding alone, so the values before the selection are
    /// the meaningful comparison. Each must exist in both graphs.
    public let comparedValues: [String]

    public init(executor: any GraphExecutor, tolerance: Tolerance = .relative(1e-5), comparedValues: [String] = []) {
        self.executor = executor
        self.tolerance = tolerance
        self.comparedValues = comparedValues
    }

    /// Checks the two graphs take and produce the same named values (exit 2 if not).
    public func checkInterfaces(original: Graph, fused: Graph) throws(VerifyError) {
        let originalInputs = original.runtimeInputs.map(\.name), fusedInputs = fused.runtimeInputs.map(\.name)
        guard Set(originalInputs) == Set(fusedInputs) else { throw .inputsDiffer(original: originalInputs, fused: fusedInputs) }
        let originalOutputs = original.outputs.map(\.name), fusedOutputs = fused.outputs.map(\.name)
        guard originalOutputs == fusedOutputs else { throw .outputsDiffer(original: originalOutputs, fused: fusedOutputs) }
        guard !originalOutputs.isEmpty else { throw .noOutputs }
        for input in original.runtimeInputs {
            guard let other = fused.runtimeInputs.first(where: { $0.name == input.name }) else { continue }
            if let a = input.fixedShape, let b = other.fixedShape, a != b {
                throw .inputShapeDiffers(input: input.name, original: input.typeDescription, fused: other.typeDescription)
            }
        }
    }

    /// Compares the graphs on each sample; localizes the first divergence when one fails.
    /// `progress` is told after each sample how many are done.
    public func verify(
        original: Graph, fused: Graph, samples: [[String: Tensor]], progress: ((Int) -> Void)? = nil
    ) throws(VerifyError) -> VerificationResult {
        try verify(original: original, fused: fused, sampleCount: samples.count, sample: { samples[$0] }, progress: progress)
    }

    /// The same with samples made one at a time by `sample(index)`, so that only one sample is in
    /// memory however many are drawn.
    public func verify(
        original: Graph, fused: Graph, sampleCount: Int, sample: (Int) throws(VerifyError) -> [String: Tensor],
        progress: ((Int) -> Void)? = nil
    ) throws(VerifyError) -> VerificationResult {
        try checkInterfaces(original: original, fused: fused)
        var results: [SampleResult] = []
        var divergence: Divergence?
        for index in 0..<sampleCount {
            let inputs = try sample(index)
            let intermediates = !comparedValues.isEmpty
            let expected = try run(original, inputs, label: "original", intermediates: intermediates)
            let actual = try run(fused, inputs, label: "fused", intermediates: intermediates)
            var outputs: [OutputResult] = []
            for name in intermediates ? comparedValues : original.outputs.map(\.name) {
                guard let a = expected[name], let b = actual[name] else {
                    if intermediates {
                        throw .unknownValue(name: name, graph: expected[name] == nil ? "original" : "fused")
                    }
                    throw .execution(graph: expected[name] == nil ? "original" : "fused", message: "output '\(name)' was not computed")
                }
                guard a.shape == b.shape else { throw .outputShapeDiffers(output: name, original: a.shape, fused: b.shape) }
                let comparison = Comparison.compare(expected: a, actual: b, atol: tolerance.atol, rtol: tolerance.rtol)
                outputs.append(OutputResult(output: name, comparison: comparison, passed: tolerance.accepts(comparison)))
            }
            results.append(SampleResult(sample: index, outputs: outputs))
            progress?(index + 1)
            if divergence == nil, outputs.contains(where: { !$0.passed }) {
                divergence = try localize(original: original, fused: fused, inputs: inputs)
            }
        }
        return VerificationResult(samples: results, firstDivergence: divergence)
    }

    private func run(_ graph: Graph, _ inputs: [String: Tensor], label: String, intermediates: Bool) throws(VerifyError) -> [String: Tensor] {
        do {
            return try executor.execute(graph, inputs: inputs, intermediates: intermediates)
        } catch let error as VerifyError {
            throw error
        } catch let error as CodedError {
            throw .cannotRun(graph: label, code: error.code, message: error.localizedDescription)
        } catch {
            throw .execution(graph: label, message: error.localizedDescription)
        }
    }

    /// Walks the fused graph in topological order comparing every value that also exists in the
    /// original (fused nodes keep the output name of the last source node they replace); the first
    /// that exceeds the tolerance names the diverging node and the source nodes it came from.
    func localize(original: Graph, fused: Graph, inputs: [String: Tensor]) throws(VerifyError) -> Divergence? {
        let expected = try run(original, inputs, label: "original", intermediates: true)
        let actual = try run(fused, inputs, label: "fused", intermediates: true)
        let order: [Node]
        do {
            order = try fused.topologicallySortedNodes()
        } catch {
            throw .execution(graph: "fused", message: error.localizedDescription)
        }
        for node in order {
            for output in node.outputs where !output.isEmpty {
                guard let a = expected[output], let b = actual[output], a.shape == b.shape else { continue }
                let comparison = Comparison.compare(expected: a, actual: b, atol: tolerance.atol, rtol: tolerance.rtol)
                if !tolerance.accepts(comparison) {
                    return Divergence(node: node.name, opType: node.opType, value: output,
                                      fusedFrom: node.fusedFrom, comparison: comparison,
                                      isSelection: Divergence.selectionOperators.contains(node.opType))
                }
            }
        }
        return nil
    }
}

public struct OutputResult: Codable, Equatable, Sendable {
    public let output: String
    public let comparison: Comparison
    public let passed: Bool
}

public struct SampleResult: Codable, Equatable, Sendable {
    public let sample: Int
    public let outputs: [OutputResult]
}

/// The first value in the fused graph (in topological order) that differs from the original's.
public struct Divergence: Codable, Equatable, Sendable {
    public let node: String
    public let opType: String
    public let value: String
    /// The source nodes the diverging node replaced (empty if it was copied unchanged).
    public let fusedFrom: [String]
    public let comparison: Comparison
    /// The node selects by value (TopK, ArgMax, ArgMin, NonZero): equivalent graphs may select
    /// differently on rounding alone, so the divergence may not be an error of the fusion.
    public var isSelection: Bool = false

    /// Operators whose outputs depend on comparisons between computed values.
    public static let selectionOperators: Set<String> = ["TopK", "ArgMax", "ArgMin", "NonZero", "Hardmax"]
}

public struct VerificationResult: Codable, Equatable, Sendable {
    public let samples: [SampleResult]
    public let firstDivergence: Divergence?

    public var equivalent: Bool { samples.allSatisfy { $0.outputs.allSatisfy(\.passed) } }

    /// The worst relative error over every sample and output.
    public var worstRelativeError: Double {
        samples.flatMap(\.outputs).map(\.comparison.relativeError).max() ?? 0
    }
}
