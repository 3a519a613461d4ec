import GhostIR

/// Who produces and who reads each value of one graph, with every name hashed once.
///
/// Each distinct value name (a node output, or a node input: activations, weights, graph inputs)
/// gets a dense id the first time the build meets it; per id the table keeps the first node
/// writing it and, as one flat list (compressed sparse rows), the nodes reading it — each once,
/// ascending. So a build hashes every name occurrence once and allocates a handful of arrays,
/// where a `[String: [Int]]` of readers hashed each name twice (producer map, reader map) and
/// made, then freed, one small array per value (600k at 200k nodes).
///
/// A node reading a value twice is one reader: repeated inputs are found by remembering, per id,
/// the last node that read it (no per-node set, however many inputs a Concat has).
final class ValueTable {
    private let ids: [String: Int32]
    /// Per id, the first node writing the value, or -1 (an initializer, a graph input).
    private let producerOf: [Int32]
    /// Per id, where its readers start in `readers` (one more entry than there are ids).
    private let readerStart: [Int32]
    private let readers: [Int32]

    init(_ nodes: [Node]) {
        var ids: [String: Int32] = [:]
        ids.reserveCapacity(nodes.count * 3)
        var producerOf: [Int32] = []
        producerOf.reserveCapacity(nodes.count * 3)
        var lastReader: [Int32] = []
        lastReader.reserveCapacity(nodes.count * 3)
        // (value id, node) per distinct read, in node order.
        var readIds: [Int32] = []
        var readNodes: [Int32] = []
        readIds.reserveCapacity(nodes.count * 3)
        readNodes.reserveCapacity(nodes.count * 3)
        var steps = 0

        func intern(_ name: String) -> Int32 {
            let next = Int32(truncatingIfNeeded: producerOf.count)
            let id = Self.lookUpOrInsert(name, next, in: &ids)
            if id == next {
                producerOf.append(-1)
                lastReader.append(-1)
            }
            return id
        }

        for position in nodes.indices {
            let node = Int32(truncatingIfNeeded: position)
            for input in nodes[position].inputs where !input.isEmpty {
                steps += 1
                let id = intern(input)
                if lastReader[Int(id)] != node {
                    lastReader[Int(id)] = node
                    readIds.append(id)
                    readNodes.append(node)
                }
            }
            for output in nodes[position].outputs where !output.isEmpty {
                steps += 1
                let id = intern(output)
                if producerOf[Int(id)] < 0 { producerOf[Int(id)] = node }
            }
        }

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
        self.readerStart = start
        self.readers = flat
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

    /// Whether a node writes `name`, and the nodes reading it: one hash for both.
    func producerAndReaders(of name: String) -> (produced: Bool, readers: ValueReaders?) {
        guard let id = ids[name] else { return (false, nil) }
        return (producerOf[Int(id)] >= 0, readers(ofID: Int(id)))
    }
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
    func producerAndReaders(of name: String) -> (produced: Bool, readers: ValueReaders?) { table.producerAndReaders(of: name) }
}

extension ValueTable {
    var producerLookup: ProducerLookup { ProducerLookup(table: self) }
    var consumerLookup: ConsumerLookup { ConsumerLookup(table: self) }
}
