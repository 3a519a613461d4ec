import GhostIR

/// Collects the rewrites of one pass over one graph; `finish()` turns them into `GraphEdits`,
/// which apply them together.
///
/// A replacement node takes the position of the last node it replaces, so the node list stays in
/// topological order (its inputs were all available there). A node can be claimed by only one
/// rewrite per pass run; a site whose nodes are taken is left for the pipeline's next round.
///
/// The editor holds no graph of its own: it reads the pass's `GraphIndex` and records what
/// changes, so that a large graph is not copied per pass — `GraphEdits.apply` changes the
/// pipeline's graph in place once the index (which holds a copy) is gone.
struct GraphEditor {
    let index: GraphIndex
    /// Per node position, whether a rewrite of this pass replaces it (made on the first claim).
    private var removed: [Bool] = []
    private var removedCount = 0
    /// Per placement position, the nodes placed there and the positions they replace.
    private var placed: [Int: Placement] = [:]
    /// Initializers added or set, in call order (applied in that order, as the table keeps
    /// insertion order), whether the name is one `claimUnusedName` proved free, and their names.
    private var initializers: [(name: String, tensor: Tensor, isNew: Bool)] = []
    /// Every name this edit handed out or set: new initializers, new values and nodes
    /// (`uniqueName`), and node outputs made initializers. One set, so a candidate name costs one
    /// lookup here after the index's, with the hash the index's took.
    private var editNames = NameSet()
    /// Node outputs made initializers (`setInitializer`): a removed node may read one.
    private var setNames = Set<String>()

    init(_ index: GraphIndex) {
        self.index = index
    }

    /// Whether none of `indices` is already part of another rewrite.
    func isFree(_ indices: [Int]) -> Bool {
        // `place` marks its position removed too, so removal alone tells.
        removed.isEmpty || indices.allSatisfy { !removed[$0] }
    }

    private mutating func markRemoved(_ position: Int) {
        if removed.isEmpty {
            removed = [Bool](repeating: false, count: index.graph.nodes.count)
            // Sized once for a pass that rewrites every other node: regrowing a dictionary of
            // 100k placements rehashes it at every doubling.
            placed.reserveCapacity(max(16, index.graph.nodes.count / 4))
        }
        if !removed[position] {
            removed[position] = true
            removedCount += 1
        }
    }

    /// Removes the nodes at `indices` and puts `node` (if any) where the last of them stood.
    /// The node is moved in (consumed): binding and wrapping it in an array copied it twice,
    /// retaining and releasing every field, at every rewrite.
    mutating func replace(_ indices: [Int], with node: consuming Node?) {
        for position in indices { markRemoved(position) }
        guard let last = indices.max(), let node = node.take() else { return }
        placed[last, default: Placement()].add(node, replacing: indices)
    }

    /// Puts `nodes` where the node at `index` stood (that node must be replaced in the same edit).
    mutating func place(_ nodes: consuming [Node], at position: Int) {
        markRemoved(position)
        placed[position, default: Placement()].add(nodes, replacing: [position])
    }

    /// Adds a constant under a name derived from `preferredName` that no value or node uses yet;
    /// `isTaken` says the caller knows the indexed graph uses `preferredName` itself.
    mutating func addInitializer(_ tensor: Tensor, preferredName: String, isTaken: Bool = false) -> String {
        let name = claimUnusedName(preferredName, isTaken: isTaken)
        initializers.append((name, tensor, true))
        return name
    }

    /// Makes `name` (a node output whose producer this edit removes) an initializer holding
    /// `tensor`, so its readers keep their input names.
    mutating func setInitializer(_ name: String, _ tensor: Tensor) {
        initializers.append((name, tensor, false))
        claim(name)
        setNames.insert(name)
    }

    /// Records a name this edit handed out. The set is sized for a rewrite of every other node
    /// on its first use: a pass that names hundreds of thousands of weights would otherwise
    /// rehash it at every doubling.
    private mutating func claim(_ name: String) {
        if editNames.isEmpty { editNames.reserve(max(16, index.graph.nodes.count / 2)) }
        editNames.insert(name)
    }

    /// `base`, or `base_1`, `base_2`, … — the first that no value, initializer or node uses.
    mutating func uniqueName(_ base: String) -> String {
        claimUnusedName(base)
    }

    /// `uniqueName`: a candidate the graph does not use is claimed by inserting it into the edit's
    /// names, which also tells whether this edit handed it out already — one set operation a
    /// candidate where a lookup and then an insertion were two.
    /// With `isTaken` (`base` is a name of the indexed graph) the search starts at `base_1`.
    private mutating func claimUnusedName(_ base: String, isTaken: Bool = false) -> String {
        if editNames.isEmpty { editNames.reserve(max(16, index.graph.nodes.count / 2)) }
        var suffix = isTaken ? 1 : 0
        var candidate = isTaken ? "\(base)_1" : base
        while true {
            let hash = NameSlots.hash(candidate)
            if !index.isNameTaken(candidate, hash: hash), editNames.insert(candidate, hash: hash) { return candidate }
            suffix += 1
            candidate = "\(base)_\(suffix)"
        }
    }

    /// The collected rewrites, or nil when there are none. Constants that only the replaced
    /// nodes read go too, so a large model never holds every intermediate version of its
    /// weights: a constant a removed node read is dropped unless a node that stays, a placed
    /// node or a graph output still reads it — found through the index's readers, with no
    /// sweep over every input and no set of them.
    ///
    /// From `concurrentFinishThreshold` nodes the removed ones are read in chunks on `threads`
    /// cores; the orphans come out as one loop lists them.
    func finish(threads: Int = Chunked.cores) -> GraphEdits? {
        guard removedCount > 0 || !initializers.isEmpty else { return nil }
        var orphans: [String] = []
        var orphanSlots: [Int] = []
        if removedCount > 0 {
            // A removed node has a few weights: room for three each, so the lists are not
            // copied at every doubling (600k names when 200k nodes go).
            orphans.reserveCapacity(removedCount * 3)
            orphanSlots.reserveCapacity(removedCount * 3)
            // Placed nodes reading a weight of the graph (an Identity of a constant, a moved
            // node): few, as replacements mostly read the new weights they come with.
            // A name this edit handed out is no weight of the graph (it was proved unused), so
            // the new weights and biases placed nodes read cost one lookup in the edit's own set.
            var placedReads = Set<String>()
            for placement in placed.values {
                for node in placement.nodes {
                    for input in node.inputs where !input.isEmpty {
                        if editNames.contains(input), !setNames.contains(input) { continue }
                        if isInitializer(input) { placedReads.insert(input) }
                    }
                }
            }
            // A value many removed nodes read (one input feeding 100k folded branches) is decided
            // once a chunk: scanning its readers for each of them would be quadratic. The removed
            // nodes are read in chunks on every core (`Chunked`); a value with many readers may
            // be decided in two chunks, so those are marked and the join keeps the first of each.
            let nodes = index.graph.nodes
            let removed = removed, setNames = setNames
            let chunked = Chunked.chunkCount(nodes.count, minimum: Self.concurrentFinishThreshold, threads: threads) > 1
            let found = Chunked.flatMap(nodes.count, minimum: Self.concurrentFinishThreshold, threads: threads) {
                range -> [(name: String, slot: Int, shared: Bool)] in
                var decided = Set<String>()
                var orphans: [(name: String, slot: Int, shared: Bool)] = []
                for position in range where removed[position] {
                    // The inputs' ids come from the index in input order, so no name is hashed.
                    var ids = index.inputIDs(ofNode: position).makeIterator()
                    for input in nodes[position].inputs where !input.isEmpty {
                        // One lookup answers every question: a node output is no weight of a graph
                        // the verifier accepted (a name defined twice is a defect), unless this edit
                        // made it one; a weight's slot in the table; and its readers.
                        guard let id = ids.next() else { break }
                        let (produced, found, slot) = index.lookup(id: Int(id))
                        if produced {
                            if setNames.isEmpty || !setNames.contains(input) { continue }
                        } else if slot < 0 {
                            continue
                        }
                        let readers = found ?? []
                        if readers.count > 8, !decided.insert(input).inserted { continue }
                        // `isGraphOutput` compares with a graph's few outputs: no hash of the name.
                        guard !readers.contains(where: { !removed[$0] }), !index.isGraphOutput(input),
                              placedReads.isEmpty || !placedReads.contains(input) else { continue }
                        // A weight this edit set on a node output has no slot in the indexed table.
                        orphans.append((input, produced ? -1 : slot, readers.count > 8))
                    }
                }
                return orphans
            }
            var joined = Set<String>()
            for orphan in found {
                if chunked, orphan.shared, !joined.insert(orphan.name).inserted { continue }
                orphans.append(orphan.name)
                orphanSlots.append(orphan.slot)
            }
        }
        return GraphEdits(removed: removed, placed: placed, placements: placed.keys.sorted(), initializers: initializers, orphans: orphans,
                          orphanSlots: orphanSlots, indexedSlotCount: index.graph.initializers.slotCount)
    }

    /// Nodes from which `finish` reads the removed ones in chunks on every core.
    static let concurrentFinishThreshold = 8192

    /// An initializer of the graph, or one this edit set on a removed node's output.
    private func isInitializer(_ name: String) -> Bool {
        index.graph.initializers.contains(name) || setNames.contains(name)
    }
}
