import GhostIR

/// The rewrites of one pass, ready to apply to the graph they were collected on.
struct GraphEdits {
    /// Per node position, whether it goes (empty: none goes).
    let removed: [Bool]
    /// What goes where; `apply` moves the nodes out (see `Placement.takeNode`).
    private(set) var placed: [Int: Placement]
    /// The positions of `placed`, ascending.
    let placements: [Int]
    let initializers: [(name: String, tensor: Tensor, isNew: Bool)]
    /// Initializers no remaining node reads.
    let orphans: [String]
    /// Per orphan, its slot in the indexed graph's initializer table (-1 for a weight this edit set).
    var orphanSlots: [Int] = []
    /// The slot count of the indexed graph's table: the slots hold only for a table of that count.
    var indexedSlotCount = -1

    /// Applies the edits to `graph`, which must be the graph they were collected on. Mutates in
    /// place: call it once nothing else holds a copy of the graph (see `GraphFacts`).
    /// What the edit removes is released on `retirement`'s queue when one is given (a pipeline's),
    /// here otherwise. Mutating: the placed nodes are moved into the graph, not copied, so the
    /// edits place them once (a copy of the edits, copy on write, keeps its own).
    mutating func apply(to graph: inout Graph, retiring retirement: Retirement? = nil) {
        // Slots name positions of the indexed table; a table of another shape goes by name.
        let slotsHold = graph.initializers.slotCount == indexedSlotCount && orphanSlots.count == orphans.count
        if !removed.isEmpty {
            if fitsInPlace() {
                compactInPlace(&graph.nodes, retiring: retirement)
            } else {
                let old = graph.nodes
                graph.nodes = []
                var nodes: [Node] = []
                nodes.reserveCapacity(old.count + placed.count)
                for (position, node) in old.enumerated() {
                    if !removed[position] { nodes.append(node) }
                    if let placement = placed[position] { nodes.append(contentsOf: placement.nodes) }
                }
                graph.nodes = nodes
                if let retirement { retirement.retire(old as AnyObject) }
            }
        }
        for entry in initializers {
            if entry.isNew {
                graph.initializers.appendNew(entry.tensor, named: entry.name)
            } else {
                graph.initializers[entry.name] = entry.tensor
            }
        }
        guard !orphans.isEmpty else { return }
        dropOrphans(from: &graph, bySlot: slotsHold, retiring: retirement)
    }

    /// Per position of the node list `apply` makes, the position that node had in the indexed
    /// list, in the order `apply` writes them (the kept nodes in their order, each group of
    /// replacements after the position it replaces); a placed node gets −2 − k, where group k of
    /// `groups` lists the indexed positions its group replaced (their names are the ones a
    /// replacement most likely reuses).
    func nodeOrigins(indexedCount: Int) -> (origins: [Int32], groups: [[Int32]]) {
        guard !removed.isEmpty else { return ((0..<indexedCount).map { Int32(truncatingIfNeeded: $0) }, []) }
        var origins: [Int32] = []
        origins.reserveCapacity(indexedCount)
        var groups: [[Int32]] = []
        groups.reserveCapacity(placed.count)
        var nextPlacement = 0
        for read in removed.indices {
            if !removed[read] { origins.append(Int32(truncatingIfNeeded: read)) }
            guard nextPlacement < placements.count, placements[nextPlacement] == read else { continue }
            let group = Int32(truncatingIfNeeded: -2 - groups.count)
            // The two fields read in place: a copy of the placement retained both arrays.
            groups.append(placed[read]?.replaces ?? [])
            origins.append(contentsOf: repeatElement(group, count: placed[read]?.nodes.count ?? 0))
            nextPlacement += 1
        }
        return (origins, groups)
    }

    /// Per slot of the initializer table `apply` leaves (of `slotCount` slots), the id the
    /// indexed table gave the weight now there (-1: a weight this edit added), from the indexed
    /// table's `idOfSlot`: the slots `apply` leaves are the indexed ones and then the added ones,
    /// in order, with the orphans' slots empty — or, when the removal compacted the table, the
    /// surviving ones in that order. Empty when the edit set weights by name (rare; the build
    /// then hashes those names).
    func slotIDs(indexed idOfSlot: [Int32], slotCount: Int) -> [Int32] {
        guard initializers.allSatisfy(\.isNew), indexedSlotCount == idOfSlot.count else { return [] }
        let added = initializers.count
        if slotCount == idOfSlot.count + added {
            return idOfSlot + repeatElement(-1, count: added)
        }
        var orphaned = [Bool](repeating: false, count: idOfSlot.count)
        for slot in orphanSlots where slot >= 0 && slot < orphaned.count { orphaned[slot] = true }
        var ids: [Int32] = []
        ids.reserveCapacity(slotCount)
        for slot in idOfSlot.indices where idOfSlot[slot] >= 0 && !orphaned[slot] { ids.append(idOfSlot[slot]) }
        ids.append(contentsOf: repeatElement(-1, count: added))
        return ids.count == slotCount ? ids : []
    }

    /// Whether the replacements never outrun the removals: up to every position where nodes are
    /// placed, at least as many nodes were removed as are placed, so the new list can be written
    /// over the old one front to back (every rewrite replaces at least as many nodes as it
    /// places, so this fails only for a pass that inserts nodes).
    private func fitsInPlace() -> Bool {
        var removedSoFar = 0, placedSoFar = 0, position = 0
        for target in placements {
            while position <= target {
                if removed[position] { removedSoFar += 1 }
                position += 1
            }
            placedSoFar += placed[target]?.nodes.count ?? 0
            if placedSoFar > removedSoFar { return false }
        }
        return true
    }

    /// The node list with the removed nodes gone and the placed ones in their positions, made by
    /// moving the kept nodes forward within the list: a kept node is swapped (moved, not copied)
    /// and a replacement overwrites a removed node, so no kept node is retained or released —
    /// on a 200k-node graph, the copy and release of every node per rewriting pass.
    private mutating func compactInPlace(_ nodes: inout [Node], retiring retirement: Retirement?) {
        var write = 0, nextPlacement = 0
        nodes.withUnsafeMutableBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            for read in 0..<buffer.count {
                if !removed[read] {
                    if write != read { buffer.swapAt(write, read) }
                    write += 1
                }
                guard nextPlacement < placements.count, placements[nextPlacement] == read else { continue }
                nextPlacement += 1
                // Slots write...read hold removed nodes (fitsInPlace): a replacement, moved out of
                // its placement, takes the place of one, which is moved out to be retired (or
                // released here).
                // One lookup a placement; its nodes are then taken through the values' index.
                guard let slot = placed.index(forKey: read) else { continue }
                for k in 0..<placed.values[slot].nodes.count {
                    let replacement = placed.values[slot].takeNode(k)
                    let old = (base + write).move()
                    (base + write).initialize(to: replacement)
                    if let retirement { retirement.retire(old) }
                    write += 1
                }
            }
            // The removed nodes left are at the end: moved out, an empty node in their place
            // (released at once, holding nothing).
            guard let retirement else { return }
            for position in write..<buffer.count {
                retirement.retire((base + position).move())
                (base + position).initialize(to: Self.vacated)
            }
        }
        nodes.removeLast(nodes.count - write)
    }

    /// What a slot holds between moving its node out and removing it.
    static let vacated = Node(name: "", opType: "", inputs: [], outputs: [])

    private func dropOrphans(from graph: inout Graph, bySlot: Bool, retiring retirement: Retirement?) {
        // Files of IR version < 4 list every initializer as a graph input: an input that names
        // an initializer before the removal and none after was an orphan (one sweep, no set).
        let listedWeights = graph.inputs.map { graph.initializers.contains($0.name) }
        if bySlot {
            // By slot, no name hashed: only appends happened since the index was made (`apply`
            // adds before it drops), which leave the slots where they were. The weights this edit
            // set have none and go by name, after: a removal by name may compact the table, which
            // moves the slots.
            let removed = graph.initializers.removeSlots(orphanSlots)
            if let retirement { retirement.retire(removed) }
            for (name, slot) in zip(orphans, orphanSlots) where slot < 0 { graph.initializers[name] = nil }
        } else {
            for name in orphans { graph.initializers[name] = nil }
        }
        if listedWeights.contains(true) {
            var kept: [Value] = []
            kept.reserveCapacity(graph.inputs.count)
            for (input, listed) in zip(graph.inputs, listedWeights) where !listed || graph.initializers.contains(input.name) {
                kept.append(input)
            }
            graph.inputs = kept
        }
    }
}

/// The nodes an edit puts at one position of the node list, and the indexed positions they
/// replace (the next index's hints for the names they reuse): one dictionary entry for both.
struct Placement {
    private(set) var nodes: [Node] = []
    private(set) var replaces: [Int32] = []

    mutating func add(_ placed: consuming [Node], replacing positions: [Int]) {
        if nodes.isEmpty { nodes = placed } else { nodes.append(contentsOf: placed) }
        record(replacing: positions)
    }

    mutating func add(_ node: consuming Node, replacing positions: [Int]) {
        nodes.append(node)
        record(replacing: positions)
    }

    private mutating func record(replacing positions: [Int]) {
        replaces.append(contentsOf: positions.lazy.map { Int32(truncatingIfNeeded: $0) })
    }

    /// The node at `k`, moved out: an empty node takes its place, so `nodes.count` still tells
    /// how many the placement put (`GraphEdits.nodeOrigins` reads it after `apply`).
    mutating func takeNode(_ k: Int) -> Node {
        var node = GraphEdits.vacated
        swap(&node, &nodes[k])
        return node
    }
}
