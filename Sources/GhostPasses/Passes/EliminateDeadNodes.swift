import GhostIR

/// `eliminate-dead-nodes`
///
/// **Given** nodes none of whose outputs reaches a graph output, and initializers no remaining
/// node reads,
/// **Result** they are removed (with any graph-input or value_info entries naming them).
///
/// Folding leaves the original weights and BN vectors behind; this is where they go.
public struct EliminateDeadNodes: GraphPass {
    public let name = "eliminate-dead-nodes"

    public init() {}

    public func run(on graph: inout Graph, log: inout PassLog) throws(PassError) {
        let producer = graph.producerIndex()
        var liveValues = Set(graph.outputs.map(\.name))
        var liveNodes = Set<Int>()
        var pending = Array(liveValues)
        while let value = pending.popLast() {
            guard let index = producer[value], liveNodes.insert(index).inserted else { continue }
            for input in graph.nodes[index].inputs where !input.isEmpty && liveValues.insert(input).inserted {
                pending.append(input)
            }
        }
        var kept: [Node] = []
        var removedNames: [String] = []
        for (index, node) in graph.nodes.enumerated() {
            if liveNodes.contains(index) { kept.append(node) } else { removedNames.append(node.displayName(index: index)) }
        }
        if !removedNames.isEmpty {
            graph.nodes = kept
            log.rewrote(removedNames, into: "")
        }
        let deadInitializers = graph.initializers.names.filter { !liveValues.contains($0) }
        if !deadInitializers.isEmpty {
            let dead = Set(deadInitializers)
            for name in deadInitializers { graph.initializers[name] = nil }
            graph.inputs.removeAll { dead.contains($0.name) }
        }
        let defined = Set(graph.nodes.flatMap(\.outputs))
        graph.valueInfo.removeAll { !defined.contains($0.name) && !graph.initializers.contains($0.name) }
    }
}
