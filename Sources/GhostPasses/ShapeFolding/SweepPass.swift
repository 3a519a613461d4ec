import GhostIR

/// A shape-folding pass that rewrites in one forward sweep over the graph (docs/passes.md,
/// "Sweeps, not sites"): it runs only when the census holds one of `sweptOperators`, reads the
/// shared index, and applies its edits at once.
protocol SweepPass: SharingPass {
    /// The operators the sweep rewrites; a graph without any of them is left alone unread.
    var sweptOperators: Set<String> { get }
    /// The edits of one sweep, or nil when there is nothing to rewrite.
    func sweep(_ index: GraphIndex, log: inout PassLog) -> GraphEdits?
}

extension SweepPass {
    public func run(on graph: inout Graph, log: inout PassLog) throws(PassError) {
        try run(on: &graph, log: &log, facts: GraphFacts())
    }

    func run(on graph: inout Graph, log: inout PassLog, facts: GraphFacts) throws(PassError) {
        guard facts.census(of: graph).containsAny(sweptOperators) else { return }
        guard var edits = sweep(facts.index(of: graph), log: &log) else { return }
        facts.invalidate()
        edits.apply(to: &graph, retiring: facts.retirement)
    }
}
