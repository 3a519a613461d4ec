import GhostIR

/// Who produces and who reads each value of one graph, where each initializer lies in the
/// graph's table, and whether the graph is well formed in node order — with every name hashed once.
///
/// Each distinct name (an initializer, a graph input, a node input or output) gets a dense id the
/// first time the build meets it; per id the table keeps the initializer slot holding it, the first
/// node writing it and, as one flat list (compressed sparse rows), the nodes reading it — each
/// once, ascending. So a build hashes every name occurrence once and allocates a handful of
/// arrays, where a `[String: [Int]]` of readers hashed each name twice (producer map, reader map)
/// and made, then freed, one small array per value (600k at 200k nodes).
///
/// The initializers are interned first, in table order, so a rule or the editor that found a
/// name here also has its slot (`InitializerTable.tensor(inSlot:)`, `removeSlots`) with no second
/// hash. The same sweep decides `isWellFormedInOrder`: rules 1–4 of `GraphVerifier` (every value
/// defined once, every input and graph output defined) with every node reading only values
/// defined before it — the verifier's own quick test, answered from the ids the index needs
/// anyway, so a pass's output is checked by the build of the index the next pass reads.
///
/// A node reading a value twice is one reader: repeated inputs are found by remembering, per id,
/// the last node that read it (no per-node set, however many inputs a Concat has).
///
/// After a rule's edit, the next table is built from the last one's `Carry`: its index of
/// ids and, per kept node and surviving weight, the id the name had, which is confirmed by
/// comparing names instead of hashing (see `Carry`) — a pass that replaces a quarter of a 200k
/// graph hashes the names it made and no others.
final class ValueTable {
    /// Every name the table has given an id, the id being its position in the set (see
    /// `NameSet`: `GraphIndex.isNameTaken` hashes a candidate once for this table and the node
    /// names' filter). A table built from a carry (see `Carry`) keeps the ids of the names its
    /// predecessor knew, including names the graph no longer holds: such an id has no producer,
    /// slot, reader or input, and answers as absent.
    private var ids: NameSet
    /// Per id, the first node writing the value, or -1 (an initializer, a graph input).
    private let producerOf: [Int32]
    /// Per id, the initializer slot holding the value, or -1.
    private let slotOf: [Int32]
    /// Per initializer slot, the id of its name (-1 for an empty slot).
    private let idOfSlot: [Int32]
    /// Per id, whether it is a graph input (an initializer listed as an input excepted).
    private let isInput: [Bool]
    /// Per id, where its readers start in `readers` (one more entry than there are ids).
    private let readerStart: [Int32]
    private let readers: [Int32]
    /// The id of every present input of every node, in node and input order (omitted inputs are
    /// skipped), and where each node's start: a rule or the editor that walks a node's inputs
    /// gets their ids without hashing the names again.
    private let inputIDs: [Int32]
    private let inputStart: [Int32]
    /// The id of every present output of every node, likewise (a carry's hints for kept nodes).
    private let outputIDs: [Int32]
    private let outputStart: [Int32]
    /// Per node, the id of its first output (-1 when it has none or that one is omitted).
    private let firstOutputIDs: [Int32]
    /// Rules 1–4 hold with every node reading only values defined before it (false says nothing
    /// about which failed: a well-formed graph listed out of order fails it too).
    let isWellFormedInOrder: Bool
    /// How many names were hashed and how many were taken from a carry's hints (for tests and
    /// `--timings`-style accounting; the answers do not depend on them).
    let hashedNames: Int
    let hintedNames: Int

    convenience init(_ graph: Graph) {
        var none: Carry? = nil
        self.init(graph, carrying: &none)
    }

    /// The table of `graph`, reusing `carry` (taken, left nil) when it is one made for this
    /// graph: its hints are tried first and each is confirmed by comparing names, so a wrong or
    /// stale hint costs a hash and never a wrong answer.
    init(_ graph: Graph, carrying carry: inout Carry?) {
        let nodes = graph.nodes
        let initializers = graph.initializers
        let expected = initializers.count + nodes.count * 2
        var ids = NameSet()
        var hints = Carry.Hints()
        if var taken = carry.take(), taken.fits(graph) {
            swap(&ids, &taken.ids)
            hints = taken.hints
        }
        let carried = ids.count
        ids.reserve(max(expected, carried + expected / 2))
        var producerOf = [Int32](repeating: -1, count: carried)
        producerOf.reserveCapacity(carried + expected)
        var slotOf = [Int32](repeating: -1, count: carried)
        slotOf.reserveCapacity(carried + expected)
        var lastReader = [Int32](repeating: -1, count: carried)
        lastReader.reserveCapacity(carried + expected)
        var isInput = [Bool](repeating: false, count: carried)
        isInput.reserveCapacity(carried + expected)
        var idOfSlot = [Int32](repeating: -1, count: initializers.slotCount)
        // (value id, node) per distinct read, in node order.
        var readIds: [Int32] = []
        var readNodes: [Int32] = []
        readIds.reserveCapacity(nodes.count * 3)
        readNodes.reserveCapacity(nodes.count * 3)
        var inputIDs: [Int32] = []
        inputIDs.reserveCapacity(nodes.count * 3)
        var inputStart: [Int32] = []
        inputStart.reserveCapacity(nodes.count + 1)
        var outputIDs: [Int32] = []
        outputIDs.reserveCapacity(nodes.count)
        var outputStart: [Int32] = []
        outputStart.reserveCapacity(nodes.count + 1)
        var firstOutputIDs = [Int32](repeating: -1, count: nodes.count)
        var steps = 0
        var hashed = 0, hinted = 0
        var wellFormed = true

        /// The id of `name`: the hint when it names it (no hash), else found or made by hashing.
        func intern(_ name: String, hint: Int32) -> Int32 {
            if hint >= 0, Int(hint) < ids.count, ids.isName(Int(hint), name) {
                hinted += 1
                return hint
            }
            hashed += 1
            let hash = NameSlots.hash(name)
            if let id = ids.id(of: name, hash: hash) { return Int32(truncatingIfNeeded: id) }
            let id = Int32(truncatingIfNeeded: ids.append(name, hash: hash))
            producerOf.append(-1)
            slotOf.append(-1)
            lastReader.append(-1)
            isInput.append(false)
            return id
        }

        // The weights with no hint, in slot order: in a carried build those the edit added, which
        // its placed nodes read in about that order.
        var added: [Int32] = []
        for slot in 0..<initializers.slotCount {
            guard let name = initializers.name(inSlot: slot) else { continue }
            let hint = hints.slot(slot)
            let id = intern(name, hint: hint)
            if carried > 0, hint < 0 { added.append(id) }
            slotOf[Int(id)] = Int32(truncatingIfNeeded: slot)
            idOfSlot[slot] = id
        }
        var nextAdded = 0

        /// The id of a name of a placed node: the next added weight (for an input), or a name of
        /// a node it replaced, each confirmed by comparison; else found or made by hashing.
        func intern(_ name: String, placedReplacing replaced: [Int32], isInput: Bool) -> Int32 {
            if isInput, nextAdded < added.count, ids.isName(Int(added[nextAdded]), name) {
                hinted += 1
                nextAdded += 1
                return added[nextAdded - 1]
            }
            for old in replaced {
                let (inputs, outputs) = hints.names(ofOldNode: Int(old))
                for id in inputs where ids.isName(Int(id), name) {
                    hinted += 1
                    return id
                }
                for id in outputs where ids.isName(Int(id), name) {
                    hinted += 1
                    return id
                }
            }
            return intern(name, hint: -1)
        }
        for input in graph.inputs {
            let id = Int(intern(input.name, hint: -1))
            // An initializer may be listed as an input (IR version < 4); a name listed twice is
            // defined twice.
            if slotOf[id] >= 0 { continue }
            if isInput[id] { wellFormed = false }
            isInput[id] = true
        }
        for position in nodes.indices {
            let node = Int32(truncatingIfNeeded: position)
            inputStart.append(Int32(truncatingIfNeeded: inputIDs.count))
            outputStart.append(Int32(truncatingIfNeeded: outputIDs.count))
            // A kept node's ids from the carry, in the order they were recorded (present names
            // only, as here).
            var inputHints = hints.inputs(ofNode: position)
            let replaced = hints.replaced(byNode: position)
            for input in nodes[position].inputs where !input.isEmpty {
                steps += 1
                let id = replaced.isEmpty ? intern(input, hint: inputHints.next() ?? -1)
                    : intern(input, placedReplacing: replaced, isInput: true)
                inputIDs.append(id)
                let index = Int(id)
                if wellFormed, slotOf[index] < 0, !isInput[index], producerOf[index] < 0 { wellFormed = false }
                if lastReader[index] != node {
                    lastReader[index] = node
                    readIds.append(id)
                    readNodes.append(node)
                }
            }
            var outputHints = hints.outputs(ofNode: position)
            for (k, output) in nodes[position].outputs.enumerated() where !output.isEmpty {
                steps += 1
                let id = replaced.isEmpty ? intern(output, hint: outputHints.next() ?? -1)
                    : intern(output, placedReplacing: replaced, isInput: false)
                outputIDs.append(id)
                if k == 0 { firstOutputIDs[position] = id }
                let index = Int(id)
                if slotOf[index] >= 0 || isInput[index] || producerOf[index] >= 0 {
                    wellFormed = false
                } else {
                    producerOf[index] = node
                }
            }
        }
        for output in graph.outputs {
            guard let id = ids.id(of: output.name, hash: NameSlots.hash(output.name)) else {
                wellFormed = false
                break
            }
            let index = Int(id)
            if slotOf[index] < 0, !isInput[index], producerOf[index] < 0 { wellFormed = false }
        }

        inputStart.append(Int32(truncatingIfNeeded: inputIDs.count))
        outputStart.append(Int32(truncatingIfNeeded: outputIDs.count))
        // Counting sort of the reads by value id; node order within an id is kept.
        var start = [Int32](repeating: 0, count: ids.count + 1)
        for id in readIds { start[Int(id) + 1] += 1 }
        for id in 0..<ids.count { start[id + 1] += start[id] }
        var fill = start
        var flat = [Int32](repeating: 0, count: readIds.count)
        for (id, node) in zip(readIds, readNodes) {
            flat[Int(fill[Int(id)])] = node
            fill[Int(id)] += 1
        }
        GraphScanCounter.current?.record(steps)
        self.ids = ids
        self.producerOf = producerOf
        self.slotOf = slotOf
        self.idOfSlot = idOfSlot
        self.isInput = isInput
        self.readerStart = start
        self.readers = flat
        self.inputIDs = inputIDs
        self.inputStart = inputStart
        self.outputIDs = outputIDs
        self.outputStart = outputStart
        self.firstOutputIDs = firstOutputIDs
        isWellFormedInOrder = wellFormed
        hashedNames = hashed
        hintedNames = hinted
    }

    /// The id of `name` (whose hash is `hash`) when the graph holds a value, initializer or
    /// graph input of that name.
    private func liveID(_ name: String, hash: Int) -> Int? {
        guard let id = ids.id(of: name, hash: hash) else { return nil }
        return isLive(id) ? id : nil
    }

    private func liveID(_ name: String) -> Int? { liveID(name, hash: NameSlots.hash(name)) }

    /// Whether the graph defines or reads the name with id `id` (a carried id may be of a name
    /// the graph no longer holds).
    private func isLive(_ id: Int) -> Bool {
        slotOf[id] >= 0 || producerOf[id] >= 0 || isInput[id] || readerStart[id + 1] > readerStart[id]
    }

    /// The first node writing `name`, if a node does.
    func producer(of name: String) -> Int? {
        guard let id = liveID(name) else { return nil }
        let node = producerOf[Int(id)]
        return node < 0 ? nil : Int(node)
    }

    /// The nodes reading `name` (ascending), or nil when none does.
    func readers(of name: String) -> ValueReaders? {
        guard let id = liveID(name) else { return nil }
        return readers(ofID: id)
    }

    private func readers(ofID id: Int) -> ValueReaders? {
        let from = Int(readerStart[id]), to = Int(readerStart[id + 1])
        return from == to ? nil : ValueReaders(readers, from: from, count: to - from)
    }

    /// Whether a node writes `name`, the nodes reading it, and the initializer slot holding it
    /// (-1: none): one hash for all three.
    func lookup(_ name: String) -> (produced: Bool, readers: ValueReaders?, slot: Int) {
        guard let id = liveID(name) else { return (false, nil, -1) }
        return lookup(id: id)
    }

    /// `lookup` of the value with id `id`: no hash.
    func lookup(id: Int) -> (produced: Bool, readers: ValueReaders?, slot: Int) {
        (producerOf[id] >= 0, readers(ofID: id), Int(slotOf[id]))
    }

    /// The ids of the present inputs of the node at `position`, in input order.
    func inputIDs(ofNode position: Int) -> ArraySlice<Int32> {
        inputIDs[Int(inputStart[position])..<Int(inputStart[position + 1])]
    }

    /// The id of the first output of the node at `position` (nil when it has none).
    func firstOutputID(ofNode position: Int) -> Int? {
        let id = firstOutputIDs[position]
        return id < 0 ? nil : Int(id)
    }

    /// The nodes reading the value with id `id` (ascending), or nil when none does.
    func readers(id: Int) -> ValueReaders? { readers(ofID: id) }

    /// The initializer slot of the value with id `id` (-1: none).
    func slot(id: Int) -> Int { Int(slotOf[id]) }

    /// The first node writing the value with id `id`, if a node does.
    func producer(id: Int) -> Int? {
        let node = producerOf[id]
        return node < 0 ? nil : Int(node)
    }

    /// Whether the graph defines or reads a value, an initializer or a graph input named `name`.
    func contains(_ name: String) -> Bool { liveID(name) != nil }

    /// `contains` of a name the caller hashed (`NameSlots.hash`).
    func contains(_ name: String, hash: Int) -> Bool { liveID(name, hash: hash) != nil }

    /// The id of the initializer in slot `slot` (nil for an empty slot or one out of range).
    func initializerID(slot: Int) -> Int? {
        guard slot >= 0, slot < idOfSlot.count, idOfSlot[slot] >= 0 else { return nil }
        return Int(idOfSlot[slot])
    }

    /// The slot count of the table the ids of `initializerID(slot:)` are for.
    var initializerSlotCount: Int { idOfSlot.count }
}

extension ValueTable {
    /// Hands this table's names to the build of `graph`, the graph it indexed after an edit:
    /// `origins` gives each node of `graph` its old position (-1: unknown; −2 − k: placed,
    /// replacing the old positions `groups[k]`), `slotIDs` each initializer
    /// slot of `graph` the id of the name it should hold (-1: unknown). The table answers nothing
    /// afterwards: call this once the index holding it is gone.
    func carry(origins: [Int32], groups: [[Int32]] = [], slotIDs: [Int32], into graph: Graph) -> Carry? {
        let count = Int32(truncatingIfNeeded: firstOutputIDs.count)
        guard origins.count == graph.nodes.count, origins.allSatisfy({ $0 < count && (-2 - $0) < groups.count }),
              groups.allSatisfy({ $0.allSatisfy { $0 >= 0 && $0 < count } }) else {
            return nil
        }
        var taken = NameSet()
        swap(&taken, &ids)
        let hints = Carry.Hints(origins: origins, groups: groups, inputIDs: inputIDs, inputStart: inputStart, outputIDs: outputIDs,
                                outputStart: outputStart, slotIDs: slotIDs)
        return Carry(ids: taken, hints: hints, nodeCount: graph.nodes.count,
                     slotCount: graph.initializers.slotCount)
    }

    /// Per initializer slot of the indexed table, the id of its name (-1: empty slot).
    var slotIDs: [Int32] { idOfSlot }
}
