import GhostIR

/// `eliminate-dead-nodes`
///
/// **Given** nodes none of whose outputs reaches a graph output, and initializers no remaining
/// node reads,
/// **Result** they are removed (with any graph-input or value_info entries naming them).
///
/// Folding leaves the original weights and BN vectors behind; this is where they go.
public struct EliminateDeadNodes: SharingPass {
    public let name = "eliminate-dead-nodes"

    public init() {}

    public func run(on graph: inout Graph, log: inout PassLog) throws(PassError) {
        try run(on: &graph, log: &log, facts: GraphFacts())
    }

    /// Changes nothing (so copies nothing) when everything is live, as it is after most rounds.
    func run(on graph: inout Graph, log: inout PassLog, facts: GraphFacts) throws(PassError) {
        let producer = facts.cachedIndex(of: graph)?.producer ?? graph.producerIndex()
        var liveValues = Set(graph.outputs.map(\.name))
        var liveNodes = [Bool](repeating: false, count: graph.nodes.count)
        var liveCount = 0
        var pending = Array(liveValues)
        while let value = pending.popLast() {
            guard let index = producer[value], !liveNodes[index] else { continue }
            liveNodes[index] = true
            liveCount += 1
            for input in graph.nodes[index].inputs where !input.isEmpty && liveValues.insert(input).inserted {
                pending.append(input)
            }
        }
        var kept: [Node] = []
        var removedNames: [String] = []
        if liveCount < graph.nodes.count {
            kept.reserveCapacity(liveCount)
            for (index, node) in graph.nodes.enumerated() {
                if liveNodes[index] { kept.append(node) } else { removedNames.append(node.displayName(index: index)) }
            }
        }
        let deadInitializers = graph.initializers.names.filter { !liveValues.contains($0) }
        if !removedNames.isEmpty || !deadInitializers.isEmpty { facts.invalidate() }
        if !removedNames.isEmpty {
            graph.nodes = kept
            log.rewrote(removedNames, into: "")
        }
        if !deadInitializers.isEmpty {
            let dead = Set(deadInitializers)
            for name in deadInitializers { graph.initializers[name] = nil }
            graph.inputs.removeAll { dead.contains($0.name) }
        }
        guard !graph.valueInfo.isEmpty else { return }
        let defined = Set(graph.nodes.flatMap(\.outputs))
        let initializers = graph.initializers
        if graph.valueInfo.contains(where: { !defined.contains($0.name) && !initializers.contains($0.name) }) {
            facts.invalidate()
            graph.valueInfo.removeAll { !defined.contains($0.name) && !initializers.contains($0.name) }
        }
    }
}
