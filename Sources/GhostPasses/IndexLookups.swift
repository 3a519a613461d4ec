import GhostIR

/// Lookups the rules make per site, phrased to hash as little as the question allows.
extension GraphIndex {
    /// Whether `value` is a graph output: a graph has a handful, so they are compared by name
    /// (no hash of `value`) unless there are many.
    func isGraphOutput(_ value: String) -> Bool {
        let outputs = graph.outputs
        if outputs.count > 8 { return graphOutputs.contains(value) }
        return outputs.contains { $0.name == value }
    }
}
