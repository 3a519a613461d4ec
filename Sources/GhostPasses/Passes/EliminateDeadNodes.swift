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
        let (liveNodes, liveCount, deadInitializers) = liveness(facts.index(of: graph))
        var kept: [Node] = []
        var removedNames: [String] = []
        if liveCount < graph.nodes.count {
            kept.reserveCapacity(liveCount)
            for (index, node) in graph.nodes.enumerated() {
                if liveNodes[index] { kept.append(node) } else { removedNames.append(node.displayName(index: index)) }
            }
        }
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

    /// Which nodes reach a graph output (walking back from the outputs through producers, one
    /// lookup per input of a live node), and the initializers that neither a live node reads
    /// nor a graph output names (through the index's readers).
    private func liveness(_ index: GraphIndex) -> (nodes: [Bool], count: Int, deadInitializers: [String]) {
        let graph = index.graph
        var live = [Bool](repeating: false, count: graph.nodes.count)
        var count = 0
        var pending: [Int] = []
        for output in graph.outputs {
            if let node = index.producer[output.name], !live[node] {
                live[node] = true
                count += 1
                pending.append(node)
            }
        }
        while let node = pending.popLast() {
            // Inputs by id, as the index recorded them: no name hashed.
            for id in index.inputIDs(ofNode: node) {
                if let producer = index.producer(id: Int(id)), !live[producer] {
                    live[producer] = true
                    count += 1
                    pending.append(producer)
                }
            }
        }
        var dead: [String] = []
        // Most weights have a live reader: that is asked first, the graph outputs only then.
        // Each slot's id is the index's, so no name is hashed.
        for slot in 0..<graph.initializers.slotCount {
            guard let id = index.initializerID(slot: slot) else { continue }
            let readers = index.readers(id: id)
            if !(readers ?? []).contains(where: { live[$0] }), let name = graph.initializers.name(inSlot: slot),
               !index.isGraphOutput(name) {
                dead.append(name)
            }
        }
        return (live, count, dead)
    }
}
