/// Initializers by name, remembering insertion order so that writers are deterministic and
/// round trips keep the file's order.
///
/// The entries live in one array in insertion order (a removed one leaves a gap, compacted when
/// half are gaps, so removing is O(1) amortized), with each name's hash beside it, and a
/// `NameSlots` index maps hashes to positions. Iterating walks the array and hashes nothing; a
/// lookup hashes the name once and probes 8-byte slots; a copy shares all three buffers until
/// one side writes.
public struct InitializerTable: Equatable, Sendable, Sequence {
    public struct Entry: Equatable, Sendable {
        public let name: String
        public let tensor: Tensor
    }

    private var entries: [Entry?] = []
    /// `hashes[i]` is the hash of `entries[i]`'s name (kept for gaps too, unused there).
    private var hashes: [Int] = []
    private var index = NameSlots()
    private var live = 0

    public init() {}

    public var count: Int { live }
    public var isEmpty: Bool { live == 0 }
    public var names: [String] {
        var names: [String] = []
        names.reserveCapacity(live)
        for case let entry? in entries { names.append(entry.name) }
        return names
    }

    public var underestimatedCount: Int { live }

    public func contains(_ name: String) -> Bool { position(of: name, hash: NameSlots.hash(name)) != nil }

    /// Whether `name`, whose hash (`NameSlots.hash`) the caller computed, is in the table.
    func contains(_ name: String, hash: Int) -> Bool { position(of: name, hash: hash) != nil }

    private func position(of name: String, hash: Int) -> Int? {
        entries.withUnsafeBufferPointer { entries in
            index.position(hash: hash) { entries[$0]?.name == name }
        }
    }

    /// Every live (position, hash), for rebuilding the index.
    private var livePositions: [(position: Int, hash: Int)] {
        // Read in place: testing `entries[i] != nil` through the lazy filter copied (retained and
        // released) each entry's name and tensor.
        entries.withUnsafeBufferPointer { entries in
            var positions: [(position: Int, hash: Int)] = []
            positions.reserveCapacity(live)
            for position in entries.indices where entries[position] != nil {
                positions.append((position, hashes[position]))
            }
            return positions
        }
    }

    /// Makes room for `capacity` initializers without regrowing.
    public mutating func reserveCapacity(_ capacity: Int) {
        entries.reserveCapacity(capacity)
        hashes.reserveCapacity(capacity)
        index.reserve(count: capacity, positions: livePositions)
    }

    /// Appends `tensor` under `name` unless the name is taken (one hash, one probe); false when
    /// it was, and the table is then unchanged.
    public mutating func insertNew(_ tensor: Tensor, named name: String) -> Bool {
        let hash = NameSlots.hash(name)
        guard position(of: name, hash: hash) == nil else { return false }
        append(Entry(name: name, tensor: tensor), hash: hash)
        return true
    }

    /// Appends `tensor` under `name`, which the caller has proved is not in the table (a pass's
    /// editor hands out only names no value, initializer or node uses): the insertion's probe for
    /// an existing entry is skipped, so a new weight costs one hash and one slot write.
    public mutating func appendNew(_ tensor: Tensor, named name: String) {
        let hash = NameSlots.hash(name)
        assert(position(of: name, hash: hash) == nil, "appendNew(named: \(name)): the name is taken")
        append(Entry(name: name, tensor: tensor), hash: hash)
    }

    private mutating func append(_ entry: Entry, hash: Int) {
        // Rebuilt in a statement of its own: the positions sequence holds the entries array,
        // which must be released again before the append below (or it would copy the array).
        if index.isFull { index.rebuild(count: 0, from: livePositions, headroom: true) }
        index.insert(position: entries.count, hash: hash)
        entries.append(entry)
        hashes.append(hash)
        live += 1
    }

    /// Reading returns the tensor; assigning replaces it in place or appends it; assigning nil removes it.
    public subscript(name: String) -> Tensor? {
        get {
            guard let position = position(of: name, hash: NameSlots.hash(name)) else { return nil }
            return entries[position]?.tensor
        }
        set {
            let hash = NameSlots.hash(name)
            let existing = position(of: name, hash: hash)
            if let newValue {
                if let existing {
                    entries[existing] = Entry(name: name, tensor: newValue)
                } else {
                    append(Entry(name: name, tensor: newValue), hash: hash)
                }
            } else if let existing {
                index.remove(position: existing, hash: hash)
                entries[existing] = nil
                live -= 1
                if entries.count > 64, live < entries.count / 2 { compact() }
            }
        }
    }

    /// Moves the live entries to the front, in order, within the arrays (an entry is swapped,
    /// not copied, so none is retained or released), and drops the gaps left at the end.
    private mutating func compact() {
        var write = 0
        // In place, as `livePositions` reads them: no entry is copied to be tested.
        entries.withUnsafeMutableBufferPointer { entries in
            for read in entries.indices where entries[read] != nil {
                if write != read {
                    entries.swapAt(write, read)
                    hashes.swapAt(write, read)
                }
                write += 1
            }
        }
        entries.removeLast(entries.count - write)
        hashes.removeLast(hashes.count - write)
        index.rebuild(count: live, from: zip(hashes.indices, hashes).lazy.map { (position: $0.0, hash: $0.1) })
    }

    public struct Iterator: IteratorProtocol {
        private let entries: [Entry?]
        private var index = 0

        fileprivate init(entries: [Entry?]) { self.entries = entries }

        public mutating func next() -> Entry? {
            while index < entries.count {
                defer { index += 1 }
                if let entry = entries[index] { return entry }
            }
            return nil
        }
    }

    public func makeIterator() -> Iterator { Iterator(entries: entries) }

    /// Positions run from 0 to `slotCount` in insertion order; a removed entry leaves an empty
    /// slot. For sweeps that follow the insertion order (see `GraphVerifier`).
    public var slotCount: Int { entries.count }

    /// The name in slot `position` (nil for an empty slot or a position out of range).
    public func name(inSlot position: Int) -> String? {
        guard position >= 0, position < entries.count else { return nil }
        return entries[position]?.name
    }

    /// The tensor in slot `position` (nil for an empty slot or a position out of range): for an
    /// index that recorded where each name lies (a pass's value table), so that reading a weight
    /// it already found costs no hash.
    public func tensor(inSlot position: Int) -> Tensor? {
        guard position >= 0, position < entries.count else { return nil }
        return entries[position]?.tensor
    }

    /// Removes the entries in slots `positions` (empty slots and positions out of range are
    /// ignored), found by position, so no name is hashed: the index keeps their slots, which no
    /// longer match a live entry (a lookup passes over them; the next rebuild drops them). The
    /// gaps are compacted once, after all of them, so the positions stay valid while removing.
    /// Returns the removed entries, moved out (the caller decides where they are released).
    @discardableResult
    public mutating func removeSlots(_ positions: some Sequence<Int>) -> [Entry] {
        removeSlots(Array(positions))
    }

    /// `removeSlots` of a list: the form the editor calls. A generic sequence from another
    /// module is walked through its witness table, an element at a time (100 ms for the 150k
    /// weights one pass over a 200k-node graph removes); an array is read directly.
    @discardableResult
    public mutating func removeSlots(_ positions: [Int]) -> [Entry] {
        var removed: [Entry] = []
        removed.reserveCapacity(positions.count)
        for position in positions where position >= 0 && position < entries.count {
            guard let entry = entries[position].take() else { continue }
            removed.append(entry)
            live -= 1
        }
        if entries.count > 64, live < entries.count / 2 { compact() }
        return removed
    }

    public static func == (lhs: InitializerTable, rhs: InitializerTable) -> Bool {
        guard lhs.count == rhs.count else { return false }
        var left = lhs.makeIterator(), right = rhs.makeIterator()
        while let a = left.next() {
            guard let b = right.next(), a.name == b.name, a.tensor == b.tensor else { return false }
        }
        return true
    }
}
