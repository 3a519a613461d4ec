import GhostIR

/// A set of names indexed by their `NameSlots` hash, for a caller that hashed a name already for
/// another table: the editor claims a candidate name by asking the graph's index and then this
/// set, with one hash for both (a `Set<String>` would hash it again).
struct NameSet {
    private var slots = NameSlots()
    private var names: [String] = []
    private var hashes: [Int] = []

    var isEmpty: Bool { names.isEmpty }

    /// Makes room for `count` names without regrowing.
    mutating func reserve(_ count: Int) {
        slots.reserve(count: count, hashes: hashes)
        names.reserveCapacity(count)
        hashes.reserveCapacity(count)
    }

    func contains(_ name: String, hash: Int) -> Bool {
        names.withUnsafeBufferPointer { names in slots.position(hash: hash) { names[$0] == name } } != nil
    }

    func contains(_ name: String) -> Bool { contains(name, hash: NameSlots.hash(name)) }

    /// Adds `name` (hashing to `hash`); false when it was there already.
    @discardableResult
    mutating func insert(_ name: String, hash: Int) -> Bool {
        if contains(name, hash: hash) { return false }
        if slots.isFull { slots.rebuild(count: 0, hashes: hashes, headroom: true) }
        slots.insert(position: names.count, hash: hash)
        names.append(name)
        hashes.append(hash)
        return true
    }

    @discardableResult
    mutating func insert(_ name: String) -> Bool { insert(name, hash: NameSlots.hash(name)) }
}
