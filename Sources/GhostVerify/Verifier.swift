import GhostIR

/// Runs graphs for the verifier. The reference interpreter provides one (see `InterpreterExecutor`);
/// tests can supply others.
public protocol GraphExecutor: Sendable {
    /// Every value computed for `inputs`: the graph outputs, and every node output when
    /// `intermediates` is true.
    func execute(_ graph: Graph, inputs: [String: Tensor], intermediates: Bool) throws -> [String: Tensor]
    /// The graph outputs and the values named in `keeping`, and a summary of every value
    /// `summarizer` wants, without keeping the others (the intermediate check). The default runs
    /// `execute(_:inputs:intermediates: true)`; `InterpreterExecutor` observes the run instead, so
    /// memory stays that of an ordinary run plus the summaries.
    func observe(_ graph: Graph, inputs: [String: Tensor], keeping: Set<String>, summarizer: ValueSummarizer) throws -> ObservedRun
}

extension GraphExecutor {
    public func observe(_ graph: Graph, inputs: [String: Tensor], keeping: Set<String>, summarizer: ValueSummarizer) throws -> ObservedRun {
        let values = try execute(graph, inputs: inputs, intermediates: true)
        var summaries: [String: ValueSummary] = [:]
        for (name, tensor) in values where summarizer.wants(name, tensor) {
            summaries[name] = summarizer.summary(of: tensor)
        }
        let wanted = Set(graph.outputs.map(\.name)).union(keeping)
        return ObservedRun(values: values.filter { wanted.contains($0.key) }, summaries: summaries)
    }
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

    /// Also compare every value both graphs compute under the same name (`IntermediateCheck`),
    /// through summaries of at most `summaryLimit` elements each.
    public let checksIntermediates: Bool
    public let summaryLimit: Int

    public init(executor: any GraphExecutor, tolerance: Tolerance = .relative(1e-5), comparedValues: [String] = [],
                checksIntermediates: Bool = false, summaryLimit: Int = ValueSummarizer.defaultLimit) {
        self.executor = executor
        self.tolerance = tolerance
        self.comparedValues = comparedValues
        self.checksIntermediates = checksIntermediates
        self.summaryLimit = summaryLimit
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
        let shared = checksIntermediates ? try SharedValues(original: original, fused: fused) : nil
        let summarizer = ValueSummarizer(limit: summaryLimit, names: shared?.names ?? [])
        var check = shared.map { IntermediateCheck(compared: 0, skippedDownstreamOfSelection: $0.skippedDownstreamOfSelection,
                                                   failed: 0, worst: nil, summaryLimit: summarizer.limit) }
        var comparedNames: Set<String> = []
        var results: [SampleResult] = []
        var divergence: Divergence?
        for index in 0..<sampleCount {
            let inputs = try sample(index)
            let named = !comparedValues.isEmpty
            let expected: ObservedRun, actual: ObservedRun
            if shared != nil {
                expected = try observe(original, inputs, label: "original", keeping: Set(comparedValues), summarizer: summarizer)
                actual = try observe(fused, inputs, label: "fused", keeping: Set(comparedValues), summarizer: summarizer)
            } else {
                expected = ObservedRun(values: try run(original, inputs, label: "original", intermediates: named), summaries: [:])
                actual = ObservedRun(values: try run(fused, inputs, label: "fused", intermediates: named), summaries: [:])
            }
            var outputs: [OutputResult] = []
            for name in named ? comparedValues : original.outputs.map(\.name) {
                guard let a = expected.values[name], let b = actual.values[name] else {
                    if named {
                        throw .unknownValue(name: name, graph: expected.values[name] == nil ? "original" : "fused")
                    }
                    throw .execution(graph: expected.values[name] == nil ? "original" : "fused", message: "output '\(name)' was not computed")
                }
                guard a.shape == b.shape else { throw .outputShapeDiffers(output: name, original: a.shape, fused: b.shape) }
                let comparison = Comparison.compare(expected: a, actual: b, atol: tolerance.atol, rtol: tolerance.rtol)
                outputs.append(OutputResult(output: name, comparison: comparison, passed: tolerance.accepts(comparison)))
            }
            results.append(SampleResult(sample: index, outputs: outputs))
            var intermediateDivergence: Divergence?
            if let shared {
                for (value, node) in shared.order {
                    guard let a = expected.summaries[value], let b = actual.summaries[value], a.shape == b.shape else { continue }
                    comparedNames.insert(value)
                    let comparison = Comparison.compare(expected: a, actual: b, atol: tolerance.atol, rtol: tolerance.rtol)
                    if check?.worst.map({ comparison.relativeError > $0.comparison.relativeError }) ?? true {
                        check?.worst = IntermediateResult(value: value, node: node.name, opType: node.opType, sample: index, comparison: comparison)
                    }
                    guard !tolerance.accepts(comparison) else { continue }
                    check?.failed += 1
                    if intermediateDivergence == nil {
                        intermediateDivergence = Divergence(node: node.name, opType: node.opType, value: value, fusedFrom: node.fusedFrom,
                                                            comparison: comparison, isSelection: false)
                    }
                }
            }
            progress?(index + 1)
            if divergence == nil {
                // Failing outputs are localized on whole tensors, as without the check: a change
                // to a few elements (Relu → Relu6 where few inputs exceed 6) can fall between the
                // summaries' sampled positions at its node and show only downstream. When only
                // intermediates fail, the summaries name the node without another run.
                if outputs.contains(where: { !$0.passed }) {
                    divergence = try localize(original: original, fused: fused, inputs: inputs) ?? intermediateDivergence
                } else {
                    divergence = intermediateDivergence
                }
            }
        }
        check?.compared = comparedNames.count
        return VerificationResult(samples: results, firstDivergence: divergence, intermediates: check)
    }

    private func observe(_ graph: Graph, _ inputs: [String: Tensor], label: String, keeping: Set<String>,
                         summarizer: ValueSummarizer) throws(VerifyError) -> ObservedRun {
        try executing(label) { try executor.observe(graph, inputs: inputs, keeping: keeping, summarizer: summarizer) }
    }

    private func run(_ graph: Graph, _ inputs: [String: Tensor], label: String, intermediates: Bool) throws(VerifyError) -> [String: Tensor] {
        try executing(label) { try executor.execute(graph, inputs: inputs, intermediates: intermediates) }
    }

    /// Runs the executor on the graph called `label`, giving its failure as a VerifyError: a coded
    /// error keeps its code (exit 2, the input cannot be run), anything else is an execution failure.
    private func executing<Result>(_ label: String, _ body: () throws -> Result) throws(VerifyError) -> Result {
        do {
            return try body()
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
    /// The intermediate check, when it was made (nil for an outputs-only verification).
    public var intermediates: IntermediateCheck?

    public init(samples: [SampleResult], firstDivergence: Divergence?, intermediates: IntermediateCheck? = nil) {
        self.samples = samples
        self.firstDivergence = firstDivergence
        self.intermediates = intermediates
    }

    /// Every output of every sample, and every compared intermediate value, within the tolerance.
    public var equivalent: Bool { outputsPass && (intermediates?.passed ?? true) }

    /// Every output of every sample within the tolerance (the intermediates aside).
    public var outputsPass: Bool { samples.allSatisfy { $0.outputs.allSatisfy(\.passed) } }

    /// The worst relative error over every sample and output (the graph outputs only; the
    /// intermediates' is `intermediates?.worst`).
    public var worstRelativeError: Double {
        samples.flatMap(\.outputs).map(\.comparison.relativeError).max() ?? 0
    }
}
