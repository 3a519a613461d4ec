import GhostIR

/// Collects the rewrites of one pass over one graph and applies them together.
///
/// A replacement node takes the position of the last node it replaces, so the node list stays in
/// topological order (its inputs were all available there). A node can be claimed by only one
/// rewrite per pass run; a site whose nodes are taken is left for the pipeline's next round.
struct GraphEditor {
    private(set) var graph: Graph
    private var removed = Set<Int>()
    private var placed: [Int: [Node]] = [:]
    /// Every value, initializer and node name; gathered on the first `uniqueName` call, as a
    /// pass that rewrites nothing never needs it.
    private var usedNames: Set<String>?

    init(_ graph: Graph) {
        self.graph = graph
    }

    private static func names(in graph: Graph) -> Set<String> {
        var names = Set(graph.initializers.names)
        names.reserveCapacity(graph.initializers.count + 3 * graph.nodes.count)
        for value in graph.inputs + graph.outputs { names.insert(value.name) }
        for node in graph.nodes {
            names.insert(node.name)
            for output in node.outputs { names.insert(output) }
        }
        return names
    }

    /// Whether none of `indices` is already part of another rewrite.
    func isFree(_ indices: [Int]) -> Bool {
        indices.allSatisfy { !removed.contains($0) && placed[$0] == nil }
    }

    /// Removes the nodes at `indices` and puts `node` (if any) where the last of them stood.
    mutating func replace(_ indices: [Int], with node: Node?) {
        for index in indices { removed.insert(index) }
        if let node, let last = indices.max() {
            placed[last, default: []].append(node)
        }
    }

    /// Puts `nodes` where the node at `index` stood (that node must be replaced in the same edit).
    mutating func place(_ nodes: [Node], at index: Int) {
        removed.insert(index)
        placed[index, default: []].append(contentsOf: nodes)
    }

    /// Adds a constant under a name derived from `preferredName` that no value or node uses yet.
    mutating func addInitializer(_ tensor: Tensor, preferredName: String) -> String {
        let name = uniqueName(preferredName)
        graph.initializers[name] = tensor
        return name
    }

    /// Makes `name` (a node output whose producer this edit removes) an initializer holding
    /// `tensor`, so its readers keep their input names.
    mutating func setInitializer(_ name: String, _ tensor: Tensor) {
        graph.initializers[name] = tensor
        usedNames?.insert(name)
    }

    /// `base`, or `base_1`, `base_2`, … — the first that no value, initializer or node uses.
    mutating func uniqueName(_ base: String) -> String {
        if usedNames == nil { usedNames = Self.names(in: graph) }
        var candidate = base
        var suffix = 0
        while usedNames!.contains(candidate) {
            suffix += 1
            candidate = "\(base)_\(suffix)"
        }
        usedNames!.insert(candidate)
        return candidate
    }

    /// The graph with every collected rewrite applied. Constants that only the replaced nodes
    /// read go too, so a large model never holds every intermediate version of its weights.
    func finish() -> Graph {
        var result = graph
        result.nodes = []
        result.nodes.reserveCapacity(graph.nodes.count)
        var orphanCandidates = Set<String>()
        for (index, node) in graph.nodes.enumerated() {
            if !removed.contains(index) {
                result.nodes.append(node)
            } else {
                orphanCandidates.formUnion(node.inputs.filter { graph.initializers.contains($0) })
            }
            if let replacements = placed[index] { result.nodes.append(contentsOf: replacements) }
        }
        if !orphanCandidates.isEmpty {
            var stillRead = Set(result.outputs.map(\.name))
            for node in result.nodes { stillRead.formUnion(node.inputs) }
            var orphans = Set<String>()
            for name in orphanCandidates where !stillRead.contains(name) {
                result.initializers[name] = nil
                orphans.insert(name)
            }
            // One sweep: files of IR version < 4 list every initializer as a graph input.
            if !orphans.isEmpty { result.inputs.removeAll { orphans.contains($0.name) } }
        }
        return result
    }
}
