/// An open-addressing hash index from names to positions in an array the caller keeps (the
/// names themselves live there; the index holds only their hashes and positions).
///
/// Why not `[String: Int]`: at 200k nodes a graph has 400k weight names, and a dictionary of them
/// is 24 bytes a bucket and a million buckets — 24 MB touched at random, a cache miss and often a
/// fresh page per insert. Here a slot is 8 bytes (the hash's high 32 bits, the position + 1), so
/// the same names take 8 MB, a probe rejects a different name by its hash bits without touching
/// the caller's array, and a caller that already hashed a name (`GraphVerifier` checks the same
/// input against two tables) hashes it once.
///
/// Linear probing, at most half full counting removed slots (tombstones); positions must stay
/// below 2^32 − 1 (an array of that many names would not fit in memory first). Copy on write:
/// copies share the slots until one side changes them. Package-wide: the passes' `ValueTable`
/// indexes its names the same way.
package struct NameSlots: @unchecked Sendable {
    // Sendable is sound: the storage is only written through a uniquely referenced value.
    private final class Storage {
        let mask: Int
        let slots: UnsafeMutablePointer<UInt64>
        /// Slots in use, tombstones included.
        var used = 0

        init(capacity: Int) {
            mask = capacity - 1
            slots = .allocate(capacity: capacity)
            slots.initialize(repeating: 0, count: capacity)
        }

        deinit { slots.deallocate() }

        var capacity: Int { mask + 1 }
    }

    private static let empty: UInt64 = 0
    private static let tombstone: UInt64 = .max
    private var storage: Storage

    package init(minimumCount: Int = 0) {
        storage = Storage(capacity: Self.capacity(for: minimumCount))
    }

    /// A power of two that holds `count` names at most half full.
    private static func capacity(for count: Int) -> Int {
        var capacity = 16
        while capacity / 2 < count, capacity < Int.max / 4 { capacity *= 2 }
        return capacity
    }

    /// A name's hash, as every lookup and insertion here wants it.
    @inline(__always)
    package static func hash(_ name: String) -> Int { name.hashValue }

    @inline(__always)
    private static func tag(_ hash: Int) -> UInt64 { UInt64(truncatingIfNeeded: hash) >> 32 }

    /// The position of the name hashing to `hash` that `isName` recognizes, if present.
    @inline(__always)
    package func position(hash: Int, where isName: (Int) -> Bool) -> Int? {
        let storage = self.storage
        let tag = Self.tag(hash)
        var index = hash & storage.mask
        while true {
            let slot = storage.slots[index]
            if slot == Self.empty { return nil }
            if slot != Self.tombstone, slot >> 32 == tag {
                let position = Int(slot & 0xFFFF_FFFF) - 1
                if isName(position) { return position }
            }
            index = (index + 1) & storage.mask
        }
    }

    /// Whether one more name needs a `rebuild(headroom: true)` first.
    package var isFull: Bool { (storage.used + 1) * 2 > storage.capacity }

    /// Records `position` for a name hashing to `hash` that is not in the index yet (which must
    /// not be full).
    package mutating func insert(position: Int, hash: Int) {
        if !isKnownUniquelyReferenced(&storage) { copyStorage() }
        place(position: position, hash: hash, in: storage, reuseTombstones: true)
    }

    /// Marks the slot of the name at `position` (hashing to `hash`) removed.
    package mutating func remove(position: Int, hash: Int) {
        if !isKnownUniquelyReferenced(&storage) { copyStorage() }
        let storage = self.storage
        let wanted = Self.tag(hash) << 32 | UInt64(position + 1)
        var index = hash & storage.mask
        while true {
            let slot = storage.slots[index]
            if slot == Self.empty { return }
            if slot == wanted {
                storage.slots[index] = Self.tombstone
                return
            }
            index = (index + 1) & storage.mask
        }
    }

    /// Replaces the index with one of every (position, hash) given, with room for at least
    /// `count` names (and, with `headroom`, twice as many as given: regrown, or cleared of
    /// tombstones, to at most a quarter full, a run of removals and insertions around one size
    /// rebuilds once per quarter of it, not on every insertion).
    package mutating func rebuild(count: Int, from positions: some Sequence<(position: Int, hash: Int)>, headroom: Bool = false) {
        var live = 0
        for _ in positions { live += 1 }
        let wanted = headroom ? 2 * (live + 1) : live
        let fresh = Storage(capacity: Self.capacity(for: max(wanted, count)))
        for (position, hash) in positions {
            place(position: position, hash: hash, in: fresh, reuseTombstones: false)
        }
        storage = fresh
    }

    /// Makes room for `count` names without regrowing.
    package mutating func reserve(count: Int, positions: some Sequence<(position: Int, hash: Int)>) {
        guard Self.capacity(for: count) > storage.capacity else { return }
        rebuild(count: count, from: positions)
    }

    /// `rebuild` of a dense list, position k hashing to `hashes[k]`: the form for a caller in
    /// another module, which would walk a generic sequence through its witness table.
    package mutating func rebuild(count: Int, hashes: [Int], headroom: Bool = false) {
        rebuild(count: count, from: hashes.enumerated().lazy.map { (position: $0.offset, hash: $0.element) }, headroom: headroom)
    }

    /// `reserve` of a dense list, as `rebuild(count:hashes:)` is.
    package mutating func reserve(count: Int, hashes: [Int]) {
        guard Self.capacity(for: count) > storage.capacity else { return }
        rebuild(count: count, hashes: hashes)
    }

    private mutating func copyStorage() {
        let copy = Storage(capacity: storage.capacity)
        copy.slots.update(from: storage.slots, count: storage.capacity)
        copy.used = storage.used
        storage = copy
    }

    private func place(position: Int, hash: Int, in storage: Storage, reuseTombstones: Bool) {
        var index = hash & storage.mask
        while true {
            let slot = storage.slots[index]
            if slot == Self.empty { break }
            if reuseTombstones, slot == Self.tombstone {
                storage.slots[index] = Self.tag(hash) << 32 | UInt64(position + 1)
                return
            }
            index = (index + 1) & storage.mask
        }
        storage.slots[index] = Self.tag(hash) << 32 | UInt64(position + 1)
        storage.used += 1
    }
}
