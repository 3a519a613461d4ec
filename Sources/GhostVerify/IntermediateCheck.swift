import GhostIR
import GhostInterpreter

/// The verdict on the values both graphs compute under the same name (not the graph outputs,
/// which are compared whole): each is compared, on every sample, through its `ValueSummary` with
/// the outputs' metric and tolerance. A fusion keeps the output name of the last node it
/// replaces, so a defect inside a fused node shows at that value even when the graph outputs damp
/// it below the tolerance (an SE gate's HardSigmoid, a detector's output dominated by box
/// coordinates in pixels).
public struct IntermediateCheck: Codable, Equatable, Sendable {
    /// How many distinct values were compared (present in both graphs, same shape, floating point).
    public var compared: Int
    /// Shared values not compared because they depend on a selection (TopK, ArgMax, ArgMin, NonZero,
    /// Hardmax): equivalent graphs may select differently on rounding alone.
    public var skippedDownstreamOfSelection: Int
    /// (value, sample) pairs past the tolerance.
    public var failed: Int
    /// The compared value with the largest relative error over every sample.
    public var worst: IntermediateResult?
    /// The most elements a value's summary keeps (values up to this size are compared whole).
    public var summaryLimit: Int

    public var passed: Bool { failed == 0 }
}

public struct IntermediateResult: Codable, Equatable, Sendable {
    public let value: String
    /// The fused graph's node that computes the value.
    public let node: String
    public let opType: String
    public let sample: Int
    public let comparison: Comparison
}

/// What the two graphs of a verification share: the values to compare, and the fused graph's
/// nodes in topological order (the first failing one is the divergence).
struct SharedValues {
    let names: Set<String>
    let skippedDownstreamOfSelection: Int
    /// Each fused node output in topological order, with its node.
    let order: [(value: String, node: Node)]

    init(original: Graph, fused: Graph) throws(VerifyError) {
        let originalOrder: [Node], fusedOrder: [Node]
        do {
            originalOrder = try original.topologicallySortedNodes()
        } catch {
            throw .execution(graph: "original", message: error.localizedDescription)
        }
        do {
            fusedOrder = try fused.topologicallySortedNodes()
        } catch {
            throw .execution(graph: "fused", message: error.localizedDescription)
        }
        let originalTainted = Self.downstreamOfSelection(originalOrder)
        let fusedTainted = Self.downstreamOfSelection(fusedOrder)
        let outputs = Set(original.outputs.map(\.name)).union(fused.outputs.map(\.name))
        let originalValues = Set(originalOrder.flatMap(\.outputs))
        var names: Set<String> = [], skipped = 0
        var order: [(value: String, node: Node)] = []
        for node in fusedOrder {
            for value in node.outputs where !value.isEmpty && originalValues.contains(value) && !outputs.contains(value) {
                if originalTainted.contains(value) || fusedTainted.contains(value) {
                    skipped += 1
                } else {
                    names.insert(value)
                    order.append((value, node))
                }
            }
        }
        self.names = names
        self.skippedDownstreamOfSelection = skipped
        self.order = order
    }

    /// Every value a selection operator produces or that is computed from one.
    static func downstreamOfSelection(_ order: [Node]) -> Set<String> {
        var tainted: Set<String> = []
        for node in order where Divergence.selectionOperators.contains(node.opType) || node.inputs.contains(where: tainted.contains) {
            tainted.formUnion(node.outputs.filter { !$0.isEmpty })
        }
        return tainted
    }
}

/// One run observed for the intermediate check: the graph outputs (and any value asked for by
/// name), and a summary of each value the summarizer wants.
public struct ObservedRun: Sendable {
    public var values: [String: Tensor]
    public var summaries: [String: ValueSummary]

    public init(values: [String: Tensor], summaries: [String: ValueSummary]) {
        self.values = values
        self.summaries = summaries
    }
}

extension Interpreter {
    /// Runs `inputs` keeping the graph outputs, the values named in `keeping` whole, and a summary
    /// of every value `summarizer` wants; every other value is freed after its last reader.
    public func observe(_ inputs: [String: Tensor], keeping: Set<String>, summarizer: ValueSummarizer) throws(InterpreterError) -> ObservedRun {
        var kept: [String: Tensor] = [:], summaries: [String: ValueSummary] = [:]
        let outputs = try run(inputs) { name, tensor in
            if keeping.contains(name) { kept[name] = tensor }
            if summarizer.wants(name, tensor), let summary = summarizer.summary(of: tensor) { summaries[name] = summary }
        }
        return ObservedRun(values: outputs.merging(kept) { first, _ in first }, summaries: summaries)
    }
}
