import GhostIR

/// `fold-constants`
///
/// **Given** `y = Constant()`, or `y = op(c₁, …, cₙ)` where every present input cᵢ is a constant
/// (an initializer, a Constant node, or a value this sweep already folded) and `op` is one the
/// constant evaluator computes (Shape, Size, Gather, Unsqueeze, Squeeze, Concat, Slice, Cast,
/// Reshape, Range, ConstantOfShape, Expand, Transpose, Where, integer Equal/Add/Sub/Mul/Div),
/// **Result** y is an initializer holding the computed tensor, and the node goes.
///
/// **Conditions**: y is not a graph output; the result has at most 2²⁰ elements; arithmetic is
/// on int32/int64 and overflow-checked, a zero divisor is refused. One forward sweep folds a
/// whole chain (Gather → Div → Cast → Unsqueeze → Concat), since each folded value is a constant
/// for the nodes after it. Initializers only the folded nodes read are dropped by the editor.
public struct FoldConstants: SharingPass {
    public let name = "fold-constants"

    public init() {}

    public func run(on graph: inout Graph, log: inout PassLog) throws(PassError) {
        try run(on: &graph, log: &log, facts: GraphFacts())
    }

    func run(on graph: inout Graph, log: inout PassLog, facts: GraphFacts) throws(PassError) {
        let census = facts.census(of: graph)
        guard census.contains("Constant") || census.containsAny(ConstantEvaluator.operators) else { return }
        guard var edits = sweep(facts.index(of: graph), log: &log) else { return }
        facts.invalidate()
        edits.apply(to: &graph, retiring: facts.retirement)
    }

    private func sweep(_ index: GraphIndex, log: inout PassLog) -> GraphEdits? {
        var editor = GraphEditor(index)
        var folded: [String: Tensor] = [:]
        func constant(_ value: String) -> Tensor? { folded[value] ?? index.constant(value) }
        var rewrote = false
        let nodes = index.graph.nodes
        // Candidates are chosen by position, so only they are copied.
        for position in nodes.indices where nodes[position].domain.isEmpty
            && (nodes[position].opType == "Constant" || ConstantEvaluator.operators.contains(nodes[position].opType)) {
            let node = nodes[position]
            guard node.outputs.count == 1, let output = node.outputs.first, !output.isEmpty else { continue }
            let tensor: Tensor
            if node.opType == "Constant" {
                guard let value = index.constant(output) else {
                    log.skipped(index.name(position), Skip(.constantValueUnsupported,
                        "a sparse, string or malformed Constant value cannot become an initializer"))
                    continue
                }
                tensor = value
            } else {
                let present = node.inputs.filter { !$0.isEmpty }
                guard !present.isEmpty, present.allSatisfy({ constant($0) != nil }) else { continue }
                do {
                    tensor = try ConstantEvaluator.evaluate(node, node.inputs.map { $0.isEmpty ? nil : constant($0) })
                } catch {
                    log.skipped(index.name(position), error.skip)
                    continue
                }
            }
            guard !index.isGraphOutput(output) else {
                log.skipped(index.name(position), Skip(.outputIsGraphOutput, "its output '\(output)' is a graph output"))
                continue
            }
            folded[output] = tensor
            editor.replace([position], with: nil)
            editor.setInitializer(output, tensor)
            log.rewrote([index.name(position)], into: output)
            rewrote = true
        }
        return rewrote ? editor.finish() : nil
    }
}
