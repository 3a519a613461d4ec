import GhostIR

/// `eliminate-identity`
///
/// **Given** `y = Identity(x)`, or `y = Dropout(x)` in inference (no training_mode input set to
/// true, mask output unused),
/// **Result** every reader of y reads x instead, and the node goes.
///
/// **Conditions**: when y is a graph output its name must survive, so instead the node producing
/// x is renamed to produce y — possible only when x is a node output with no other reader and is
/// not itself a graph output. Exporters emit Identity around shared weights (the TorchScript
/// exporter without constant folding puts one before every BN parameter), so this runs first and
/// lets the folding passes see the constants directly.
public struct EliminateIdentity: SharingPass {
    public let name = "eliminate-identity"

    public init() {}

    public func run(on graph: inout Graph, log: inout PassLog) throws(PassError) {
        try run(on: &graph, log: &log, facts: GraphFacts())
    }

    func run(on graph: inout Graph, log: inout PassLog, facts: GraphFacts) throws(PassError) {
        // Most graphs have none: then the index is not worth building.
        let census = facts.census(of: graph)
        guard census.contains("Identity") || census.contains("Dropout") else { return }
        let index = facts.index(of: graph)
        // One sweep collects every bypass, so the pass is linear in the graph's size.
        var alias: [String: String] = [:]          // removed output → the value it passed through
        var aliasesOf: [String: [String]] = [:]     // the reverse of `alias`
        var renamedOutputs: [String: String] = [:]  // producer output → graph output name it takes
        var removed = Set<Int>()
        func resolve(_ value: String) -> String {
            var current = value
            while let next = alias[current] { current = next }
            return current
        }
        for (position, node) in graph.nodes.enumerated() where isPassThrough(node, index: index) {
            let input = resolve(node.inputs[0]), output = node.outputs[0]
            if !index.isGraphOutput(output) {
                alias[output] = input
                aliasesOf[input, default: []].append(output)
            } else if let (_, _) = index.producerNode(of: input), renamedOutputs[input] == nil,
                      !index.isGraphOutput(input), readers(of: input, index: index, aliasesOf: aliasesOf) == [position] {
                renamedOutputs[input] = output
            } else {
                log.skipped(node.displayName(index: position), Skip(
                    .graphOutputNotRenamable,
                    "its output '\(output)' is a graph output and its input '\(input)' cannot be renamed (a graph input, initializer, or read elsewhere)"))
                continue
            }
            removed.insert(position)
            log.rewrote([node.displayName(index: position)], into: "")
        }
        guard !removed.isEmpty else { return }
        facts.invalidate()
        var nodes: [Node] = []
        nodes.reserveCapacity(graph.nodes.count - removed.count)
        for (position, var node) in graph.nodes.enumerated() where !removed.contains(position) {
            node.inputs = node.inputs.map { $0.isEmpty ? $0 : renamedOutputs[resolve($0)] ?? resolve($0) }
            node.outputs = node.outputs.map { renamedOutputs[$0] ?? $0 }
            nodes.append(node)
        }
        graph.nodes = nodes
        graph.valueInfo.removeAll { alias[$0.name] != nil }
    }

    /// The nodes reading `value` directly or through an Identity already bypassed.
    private func readers(of value: String, index: GraphIndex, aliasesOf: [String: [String]]) -> [Int] {
        var result = Array(index.consumers[value] ?? [])
        for removedOutput in aliasesOf[value] ?? [] {
            result.append(contentsOf: index.consumers[removedOutput] ?? [])
        }
        return result.sorted()
    }

    private func isPassThrough(_ node: Node, index: GraphIndex) -> Bool {
        guard node.domain.isEmpty, node.inputs.first.map({ !$0.isEmpty }) == true,
              let output = node.outputs.first, !output.isEmpty else { return false }
        switch node.opType {
        case "Identity":
            return node.inputs.count == 1
        case "Dropout":
            // Opset 12+: an explicit training_mode input that is true makes it a real dropout.
            if node.inputs.count >= 3, !node.inputs[2].isEmpty {
                guard let mode = index.constant(node.inputs[2]), mode.int64Values() == [0] else { return false }
            }
            if node.attribute("is_test")?.intValue == 0, index.graph.onnxOpsetVersion.map({ $0 < 7 }) == true { return false }
            let mask = node.outputs.dropFirst().first ?? ""
            return mask.isEmpty || index.consumers[mask] == nil && !index.isGraphOutput(mask)
        default:
            return false
        }
    }
}
