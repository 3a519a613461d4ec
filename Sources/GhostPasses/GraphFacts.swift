import GhostIR

/// What the passes of one pipeline run know about the graph as it stands — its operator census
/// and its `GraphIndex` — each made on first use and dropped when a pass changes the graph.
///
/// A pass that rewrites nothing hands the next one the very graph it was given, so on a large
/// graph most passes of a round read the census and index the previous pass made instead of
/// scanning the nodes again: a pass whose operators are absent costs one dictionary lookup, and
/// the passes of a round that find nothing share one index build.
///
/// A pass that changes the graph calls `invalidate()` before it applies its edits: the cached
/// index holds a copy of the graph, and dropping it first lets the edits mutate the pipeline's
/// graph in place (no copy of the node list or the initializer table per pass).
final class GraphFacts {
    private var cachedIndex: GraphIndex?
    private var cachedCensus: OperatorCensus?
    /// The node list the census was taken of; the census holds no copy of the graph, so this
    /// keeps that list alive, which makes an identity check a sound staleness test (a mutation
    /// of a shared array buffer copies it first).
    private var censusNodes: [Node] = []
    /// Where the passes' edits release what they remove (see `Retirement`).
    let retirement = Retirement()
    /// What the last edit's index hands the next build (see `ValueTable.Carry`): taken by the
    /// next index built, whichever graph that is (a carry that does not fit it is dropped, and a
    /// hint that is wrong costs a hash, never a wrong answer).
    var carry: ValueTable.Carry?

    init() {}

    /// The index of `graph`, built now unless the cached one is of this graph.
    func index(of graph: Graph) -> GraphIndex {
        if let cachedIndex, Self.sameNodes(cachedIndex.graph.nodes, graph.nodes),
           cachedIndex.graph.initializers.count == graph.initializers.count {
            return cachedIndex
        }
        // A carry the build would decline goes to the retirement: releasing its names (most of
        // a graph's) would be most of the build.
        if let declined = carry, !declined.fits(graph) {
            carry = nil
            retirement.retire(declined as AnyObject)
        }
        let index = GraphIndex(graph, carrying: &carry)
        cachedIndex = index
        return index
    }

    /// The index, if one of `graph` is cached (a pass that can do without one asks this).
    func cachedIndex(of graph: Graph) -> GraphIndex? {
        guard let cachedIndex, Self.sameNodes(cachedIndex.graph.nodes, graph.nodes) else { return nil }
        return cachedIndex
    }

    /// ONNX-domain operator counts of `graph`.
    func census(of graph: Graph) -> OperatorCensus {
        if let cachedCensus, Self.sameNodes(censusNodes, graph.nodes) { return cachedCensus }
        let census = OperatorCensus(graph.nodes)
        cachedCensus = census
        censusNodes = graph.nodes
        return census
    }

    /// Forgets everything: the graph is about to change.
    func invalidate() {
        retirement.flush()
        // The index is released here, not retired: the edits about to be applied mutate the
        // graph in place only once the index's copy of it is gone.
        cachedIndex = nil
        cachedCensus = nil
        censusNodes = []
    }

    /// Whether two node lists are one array buffer (so, while either holder keeps it, the same
    /// nodes). Empty lists compare equal.
    private static func sameNodes(_ a: [Node], _ b: [Node]) -> Bool {
        guard a.count == b.count else { return false }
        if a.isEmpty { return true }
        return a.withUnsafeBufferPointer { x in b.withUnsafeBufferPointer { y in x.baseAddress == y.baseAddress } }
    }
}

/// How many nodes of each ONNX-domain operator a graph has: one sweep, so that every pass can
/// tell in one lookup whether its operators occur at all.
///
/// A graph has a few dozen operator types, and runs of one type: a node's type is compared with
/// the last one counted, then with the others in a short list (small strings compare by their
/// bits), so the sweep hashes nothing — at 200k nodes, taken once per graph state, hashing every
/// type was most of it.
struct OperatorCensus {
    private var types: [String] = []
    private var counts: [Int] = []
    /// Positions in `types` by name, once there are more than a list should be searched for.
    private var positions: [String: Int]?

    init(_ nodes: [Node]) {
        var last = -1
        for position in nodes.indices where nodes[position].domain.isEmpty {
            let opType = nodes[position].opType
            if last >= 0, types[last] == opType {
                counts[last] += 1
                continue
            }
            if let found = self.position(of: opType) {
                counts[found] += 1
                last = found
            } else {
                types.append(opType)
                counts.append(1)
                last = types.count - 1
                if positions != nil {
                    positions?[opType] = last
                } else if types.count > 32 {
                    positions = Dictionary(uniqueKeysWithValues: zip(types, types.indices))
                }
            }
        }
    }

    private func position(of opType: String) -> Int? {
        if let positions { return positions[opType] }
        return types.firstIndex(of: opType)
    }

    func count(_ opType: String) -> Int { position(of: opType).map { counts[$0] } ?? 0 }

    func contains(_ opType: String) -> Bool { position(of: opType) != nil }

    func containsAny(_ opTypes: Set<String>) -> Bool {
        opTypes.contains { position(of: $0) != nil }
    }
}

/// A pass that takes the pipeline's shared `GraphFacts` (every pass of the default pipeline).
/// `run(on:log:)` of such a pass runs it with facts of its own.
protocol SharingPass: GraphPass {
    func run(on graph: inout Graph, log: inout PassLog, facts: GraphFacts) throws(PassError)
}
