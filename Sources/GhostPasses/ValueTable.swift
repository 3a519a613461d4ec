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
final class ValueTable {
    private let ids: [String: Int32]
    /// Per id, the first node writing the value, or -1 (an initializer, a graph input).
    private let producerOf: [Int32]
    /// Per id, the initializer slot holding the value, or -1.
    private let slotOf: [Int32]
    /// Per id, where its readers start in `readers` (one more entry than there are ids).
    private let readerStart: [Int32]
    private let readers: [Int32]
    /// The id of every present input of every node, in node and input order (omitted inputs are
    /// skipped), and where each node's start: a rule or the editor that walks a node's inputs
    /// gets their ids without hashing the names again.
    private let inputIDs: [Int32]
    private let inputStart: [Int32]
    /// Per node, the id of its first output (-1 when it has none or that one is omitted).
    private let firstOutputIDs: [Int32]
    /// Rules 1–4 hold with every node reading only values defined before it (false says nothing
    /// about which failed: a well-formed graph listed out of order fails it too).
    let isWellFormedInOrder: Bool
    /// The initializers have the ids 0..<initializerCount, in slot order (interned first, and
    /// their names are distinct).
    let initializerCount: Int

    init(_ graph: Graph) {
        let nodes = graph.nodes
        let initializers = graph.initializers
        let expected = initializers.count + nodes.count * 2
        var ids: [String: Int32] = [:]
        ids.reserveCapacity(expected)
        var producerOf: [Int32] = []
        producerOf.reserveCapacity(expected)
        var slotOf: [Int32] = []
        slotOf.reserveCapacity(expected)
        var lastReader: [Int32] = []
        lastReader.reserveCapacity(expected)
        var isInput: [Bool] = []
        isInput.reserveCapacity(expected)
        // (value id, node) per distinct read, in node order.
        var readIds: [Int32] = []
        var readNodes: [Int32] = []
        readIds.reserveCapacity(nodes.count * 3)
        readNodes.reserveCapacity(nodes.count * 3)
        var inputIDs: [Int32] = []
        inputIDs.reserveCapacity(nodes.count * 3)
        var inputStart: [Int32] = []
        inputStart.reserveCapacity(nodes.count + 1)
        var firstOutputIDs = [Int32](repeating: -1, count: nodes.count)
        var steps = 0
        var wellFormed = true

        func intern(_ name: String) -> Int32 {
            let next = Int32(truncatingIfNeeded: producerOf.count)
            let id = Self.lookUpOrInsert(name, next, in: &ids)
            if id == next {
                producerOf.append(-1)
                slotOf.append(-1)
                lastReader.append(-1)
                isInput.append(false)
            }
            return id
        }

        for slot in 0..<initializers.slotCount {
            guard let name = initializers.name(inSlot: slot) else { continue }
            slotOf[Int(intern(name))] = Int32(truncatingIfNeeded: slot)
        }
        let initializerCount = producerOf.count
        for input in graph.inputs {
            let id = Int(intern(input.name))
            // An initializer may be listed as an input (IR version < 4); a name listed twice is
            // defined twice.
            if slotOf[id] >= 0 { continue }
            if isInput[id] { wellFormed = false }
            isInput[id] = true
        }
        for position in nodes.indices {
            let node = Int32(truncatingIfNeeded: position)
            inputStart.append(Int32(truncatingIfNeeded: inputIDs.count))
            for input in nodes[position].inputs where !input.isEmpty {
                steps += 1
                let id = intern(input)
                inputIDs.append(id)
                let index = Int(id)
                if wellFormed, slotOf[index] < 0, !isInput[index], producerOf[index] < 0 { wellFormed = false }
                if lastReader[index] != node {
                    lastReader[index] = node
                    readIds.append(id)
                    readNodes.append(node)
                }
            }
            for (k, output) in nodes[position].outputs.enumerated() where !output.isEmpty {
                steps += 1
                let id = intern(output)
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
            guard let id = ids[output.name] else {
                wellFormed = false
                break
            }
            let index = Int(id)
            if slotOf[index] < 0, !isInput[index], producerOf[index] < 0 { wellFormed = false }
        }

        inputStart.append(Int32(truncatingIfNeeded: inputIDs.count))
        // Counting sort of the reads by value id; node order within an id is kept.
        var start = [Int32](repeating: 0, count: producerOf.count + 1)
        for id in readIds { start[Int(id) + 1] += 1 }
        for id in 0..<producerOf.count { start[id + 1] += start[id] }
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
        self.readerStart = start
        self.readers = flat
        self.inputIDs = inputIDs
        self.inputStart = inputStart
        self.firstOutputIDs = firstOutputIDs
        isWellFormedInOrder = wellFormed
        self.initializerCount = initializerCount
    }

    /// The id of `name`, inserting `next` when it has none: one hash and one probe either way
    /// (the dictionary's defaulted subscript, modified in place).
    private static func lookUpOrInsert(_ name: String, _ next: Int32, in ids: inout [String: Int32]) -> Int32 {
        func read(_ value: inout Int32) -> Int32 { value }
        return read(&ids[name, default: next])
    }

    /// The first node writing `name`, if a node does.
    func producer(of name: String) -> Int? {
        guard let id = ids[name] else { return nil }
        let node = producerOf[Int(id)]
        return node < 0 ? nil : Int(node)
    }

    /// The nodes reading `name` (ascending), or nil when none does.
    func readers(of name: String) -> ValueReaders? {
        guard let id = ids[name] else { return nil }
        return readers(ofID: Int(id))
    }

    private func readers(ofID id: Int) -> ValueReaders? {
        let from = Int(readerStart[id]), to = Int(readerStart[id + 1])
        return from == to ? nil : ValueReaders(readers, from: from, count: to - from)
    }

    /// Whether a node writes `name`, the nodes reading it, and the initializer slot holding it
    /// (-1: none): one hash for all three.
    func lookup(_ name: String) -> (produced: Bool, readers: ValueReaders?, slot: Int) {
        guard let id = ids[name] else { return (false, nil, -1) }
        return lookup(id: Int(id))
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
    func contains(_ name: String) -> Bool { ids[name] != nil }
}

/// The nodes reading one value, ascending: a view into the table's flat reader list, indexed
/// from 0 like the array it replaces.
struct ValueReaders: RandomAccessCollection, Equatable, ExpressibleByArrayLiteral {
    private let storage: [Int32]
    private let offset: Int
    let count: Int

    fileprivate init(_ storage: [Int32], from offset: Int, count: Int) {
        self.storage = storage
        self.offset = offset
        self.count = count
    }

    init(arrayLiteral elements: Int...) {
        storage = elements.map { Int32(truncatingIfNeeded: $0) }
        offset = 0
        count = elements.count
    }

    var startIndex: Int { 0 }
    var endIndex: Int { count }

    subscript(position: Int) -> Int {
        precondition(position >= 0 && position < count, "reader index out of range")
        return Int(storage[offset + position])
    }

    static func == (lhs: ValueReaders, rhs: ValueReaders) -> Bool { lhs.elementsEqual(rhs) }
}

/// `index.producer[name]`: the first node writing `name`.
struct ProducerLookup {
    fileprivate let table: ValueTable
    subscript(name: String) -> Int? { table.producer(of: name) }
}

/// `index.consumers[name]`: the nodes reading `name`, nil when none does.
struct ConsumerLookup {
    fileprivate let table: ValueTable
    subscript(name: String) -> ValueReaders? { table.readers(of: name) }
}

extension ValueTable {
    var producerLookup: ProducerLookup { ProducerLookup(table: self) }
    var consumerLookup: ConsumerLookup { ConsumerLookup(table: self) }
}
