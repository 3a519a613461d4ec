import GhostIR

/// A Graphviz DOT drawing of a graph: operators as boxes, graph inputs and outputs as ellipses,
/// edges labelled with declared shapes. Nodes that fusion produced are filled and list what they
/// absorbed; with the original graph at hand, by op type ("Conv + BatchNormalization ×2 + Add").
public enum GraphDot {
    public static func render(_ graph: Graph, original: Graph? = nil, title: String = "") -> String {
        let sourceOps = Dictionary((original?.nodes ?? []).map { ($0.name, $0.opType) }, uniquingKeysWith: { first, _ in first })
        let shapes = Dictionary((graph.inputs + graph.outputs + graph.valueInfo).map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        var lines = [
            "digraph \"\(escape(title.isEmpty ? graph.name : title))\" {",
            "  rankdir=TB;",
            "  node [fontname=\"Helvetica\", fontsize=10];",
            "  edge [fontname=\"Helvetica\", fontsize=8, color=\"#777777\"];",
        ]
        var producer: [String: String] = [:]
        for value in graph.runtimeInputs {
            let id = "in_\(identifier(value.name))"
            lines.append("  \(id) [shape=ellipse, style=filled, fillcolor=\"#e8eef7\", label=\"\(escape(value.name))\\n\(escape(value.typeDescription))\"];")
            producer[value.name] = id
        }
        for (index, node) in graph.nodes.enumerated() {
            let id = "n\(index)"
            var label = "\(node.opType)\\n\(escape(shortName(node.displayName(index: index))))"
            var style = "shape=box, style=\"rounded\""
            if !node.fusedFrom.isEmpty {
                label += "\\n" + escape(absorbed(node.fusedFrom, sourceOps: sourceOps))
                style = "shape=box, style=\"rounded,filled\", fillcolor=\"#ffe7b3\", color=\"#c98a00\""
            }
            lines.append("  \(id) [\(style), label=\"\(label)\"];")
            for output in node.outputs where !output.isEmpty { producer[output] = id }
        }
        for (index, node) in graph.nodes.enumerated() {
            for input in node.inputs where !input.isEmpty {
                guard let source = producer[input] else { continue }  // initializers are not drawn
                lines.append("  \(source) -> n\(index)\(edgeLabel(shapes[input]));")
            }
        }
        for value in graph.outputs {
            let id = "out_\(identifier(value.name))"
            lines.append("  \(id) [shape=ellipse, style=filled, fillcolor=\"#e6f4e6\", label=\"\(escape(value.name))\"];")
            if let source = producer[value.name] { lines.append("  \(source) -> \(id)\(edgeLabel(shapes[value.name]));") }
        }
        lines.append("}")
        return lines.joined(separator: "\n") + "\n"
    }

    /// "fused: Conv + BatchNormalization ×2 + Add" (or the node names when the source is unknown).
    static func absorbed(_ names: [String], sourceOps: [String: String]) -> String {
        guard !sourceOps.isEmpty else { return "fused from \(names.count) nodes" }
        var counts: [(String, Int)] = []
        for name in names {
            let op = sourceOps[name] ?? "?"
            if let index = counts.firstIndex(where: { $0.0 == op }) { counts[index].1 += 1 } else { counts.append((op, 1)) }
        }
        return "fused: " + counts.map { $0.1 > 1 ? "\($0.0) ×\($0.1)" : $0.0 }.joined(separator: " + ")
    }

    private static func edgeLabel(_ value: Value?) -> String {
        guard let shape = value?.shape else { return "" }
        return " [label=\"\(shape.map(\.description).joined(separator: "×"))\"]"
    }

    /// Exporter names are paths ("/blocks/blocks.0/…/Conv"): keep the last two components.
    private static func shortName(_ name: String) -> String {
        let parts = name.split(separator: "/")
        return parts.count > 2 ? "…/" + parts.suffix(2).joined(separator: "/") : name
    }

    private static func identifier(_ name: String) -> String {
        String(name.map { $0.isLetter || $0.isNumber ? $0 : "_" })
    }

    private static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
    }
}
