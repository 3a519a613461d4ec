// The views `ValueTable` answers reader and producer questions with.

/// The nodes reading one value, ascending: a view into the table's flat reader list, indexed
/// from 0 like the array it replaces.
struct ValueReaders: RandomAccessCollection, Equatable, ExpressibleByArrayLiteral {
    private let storage: [Int32]
    private let offset: Int
    let count: Int

    /// `count` readers of `storage` from `offset` (the table's flat list).
    init(_ storage: [Int32], from offset: Int, count: Int) {
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
