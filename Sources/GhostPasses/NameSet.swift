import GhostIR

/// Names with dense ids (in insertion order), indexed by their `NameSlots` hash: 8 bytes a name
/// in the index, and one hash a name for a caller that hashed it already for another table.
/// `ValueTable` interns a graph's names here (the id is the value's id) and the editor keeps the
/// names it hands out: a candidate is hashed once for the graph's index and this set, where a
/// `Set<String>` and a `[String: Int32]` hashed it again each.
struct NameSet {
    private var slots = NameSlots()
    private var names: [String] = []
    /// Per id, the hash of its name, for regrowing `slots`.
    private var hashes: [Int] = []

    var count: Int { names.count }
    var isEmpty: Bool { names.isEmpty }

    /// Makes room for `count` names without regrowing.
    mutating func reserve(_ count: Int) {
        slots.reserve(count: count, hashes: hashes)
        names.reserveCapacity(count)
        hashes.reserveCapacity(count)
    }

    /// Whether the name with id `id` is `name` (no copy of either).
    @inline(__always)
    func isName(_ id: Int, _ name: String) -> Bool { names[id] == name }

    /// The id of `name` (hashing to `hash`, `NameSlots.hash`), if it has one.
    func id(of name: String, hash: Int) -> Int? {
        names.withUnsafeBufferPointer { names in slots.position(hash: hash) { names[$0] == name } }
    }

    func contains(_ name: String, hash: Int) -> Bool { id(of: name, hash: hash) != nil }

    func contains(_ name: String) -> Bool { contains(name, hash: NameSlots.hash(name)) }

    /// Gives `name` (hashing to `hash`, and not in the set) the next id, and returns it.
    mutating func append(_ name: String, hash: Int) -> Int {
        if slots.isFull { slots.rebuild(count: 0, hashes: hashes, headroom: true) }
        slots.insert(position: names.count, hash: hash)
        names.append(name)
        hashes.append(hash)
        return names.count - 1
    }

    /// Adds `name` (hashing to `hash`); false when it was there already.
    @discardableResult
    mutating func insert(_ name: String, hash: Int) -> Bool {
        if contains(name, hash: hash) { return false }
        _ = append(name, hash: hash)
        return true
    }

    @discardableResult
    mutating func insert(_ name: String) -> Bool { insert(name, hash: NameSlots.hash(name)) }
}
