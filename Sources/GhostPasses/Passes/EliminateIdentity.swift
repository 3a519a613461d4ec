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
public struct EliminateIdentity: GraphPass {
    public let name = "eliminate-identity"

    public init() {}

    public func run(on graph: inout Graph, log: inout PassLog) throws(PassError) {
        var index = GraphIndex(graph)
        var position = 0
        // One node at a time: each removal renames values that later candidates may read.
        while position < graph.nodes.count {
            let node = graph.nodes[position]
            guard isPassThrough(node, index: index) else {
                position += 1
                continue
            }
            let input = node.inputs[0], output = node.outputs[0]
            if !index.graphOutputs.contains(output) {
                graph.nodes.remove(at: position)
                for reader in graph.nodes.indices {
                    graph.nodes[reader].inputs = graph.nodes[reader].inputs.map { $0 == output ? input : $0 }
                }
            } else if let (producerIndex, _) = index.producerNode(of: input),
                      !index.graphOutputs.contains(input), index.consumers[input] == [position] {
                graph.nodes[producerIndex].outputs = graph.nodes[producerIndex].outputs.map { $0 == input ? output : $0 }
                graph.nodes.remove(at: position)
            } else {
                log.skipped(node.displayName(index: position), because: "its output '\(output)' is a graph output and its input '\(input)' cannot be renamed (a graph input, initializer, or read elsewhere)")
                position += 1
                continue
            }
            graph.valueInfo.removeAll { $0.name == output && !index.graphOutputs.contains(output) }
            log.rewrote([node.displayName(index: position)], into: "")
            index = GraphIndex(graph)
        }
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
            return mask.isEmpty || index.consumers[mask] == nil && !index.graphOutputs.contains(mask)
        default:
            return false
        }
    }
}
