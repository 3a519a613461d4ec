/// An operator set a model imports: ONNX's (domain "") or a custom one.
public struct OpsetImport: Hashable, Sendable {
    public var domain: String
    public var version: Int64

    public init(domain: String, version: Int64) {
        self.domain = domain
        self.version = version
    }
}

/// Model-level facts carried through conversion unchanged.
public struct ModelMetadata: Equatable, Sendable {
    public var irVersion: Int64
    public var producerName: String
    public var producerVersion: String
    public var domain: String
    public var modelVersion: Int64
    public var docString: String
    /// Free-form key/value pairs, in file order.
    public var properties: [MetadataProperty]

    public init(
        irVersion: Int64 = 8, producerName: String = "", producerVersion: String = "",
        domain: String = "", modelVersion: Int64 = 0, docString: String = "",
        properties: [MetadataProperty] = []
    ) {
        self.irVersion = irVersion
        self.producerName = producerName
        self.producerVersion = producerVersion
        self.domain = domain
        self.modelVersion = modelVersion
        self.docString = docString
        self.properties = properties
    }
}

public struct MetadataProperty: Hashable, Sendable {
    public var key: String
    public var value: String

    public init(key: String, value: String) {
        self.key = key
        self.value = value
    }
}

/// A computation graph with its weights: the single representation every module works on.
public struct Graph: Equatable, Sendable {
    public var name: String
    /// Declared inputs, in file order. Older files also list initializers here; see `runtimeInputs`.
    public var inputs: [Value]
    public var outputs: [Value]
    public var initializers: InitializerTable
    /// Nodes in file order (not necessarily topological; see `topologicalOrder()`).
    public var nodes: [Node]
    /// Types the file declares for intermediate values.
    public var valueInfo: [Value]
    public var opsetImports: [OpsetImport]
    public var metadata: ModelMetadata
    public var docString: String

    public init(
        name: String = "", inputs: [Value] = [], outputs: [Value] = [],
        initializers: InitializerTable = InitializerTable(), nodes: [Node] = [],
        valueInfo: [Value] = [], opsetImports: [OpsetImport] = [OpsetImport(domain: "", version: 17)],
        metadata: ModelMetadata = ModelMetadata(), docString: String = ""
    ) {
        self.name = name
        self.inputs = inputs
        self.outputs = outputs
        self.initializers = initializers
        self.nodes = nodes
        self.valueInfo = valueInfo
        self.opsetImports = opsetImports
        self.metadata = metadata
        self.docString = docString
    }

    /// The inputs a caller must feed: declared inputs that no initializer provides.
    public var runtimeInputs: [Value] {
        inputs.filter { !initializers.contains($0.name) }
    }

    /// The version of the default ONNX operator set, if imported.
    public var onnxOpsetVersion: Int64? {
        opsetImports.first { $0.domain.isEmpty }?.version
    }

    /// Total number of weight elements and bytes held by initializers.
    public var parameterTotals: (elements: Int, bytes: Int) {
        initializers.reduce(into: (0, 0)) { totals, entry in
            totals.0 += entry.tensor.elementCount
            totals.1 += entry.tensor.byteCount
        }
    }
}

/// Initializers by name, remembering insertion order so that writers are deterministic and
/// round trips keep the file's order.
///
/// The entries live in one array in insertion order (a removed one leaves a gap, compacted when
/// half are gaps, so removing is O(1) amortized), and a dictionary maps each name to its
/// position. Iterating walks the array and hashes nothing; a copy shares both buffers until one
/// side writes, and the dictionary it then copies holds only names and integers.
public struct InitializerTable: Equatable, Sendable, Sequence {
    public struct Entry: Equatable, Sendable {
        public let name: String
        public let tensor: Tensor
    }

    private var entries: [Entry?] = []
    private var positions: [String: Int] = [:]

    public init() {}

    public var count: Int { positions.count }
    public var isEmpty: Bool { positions.isEmpty }
    public var names: [String] {
        var names: [String] = []
        names.reserveCapacity(positions.count)
        for case let entry? in entries { names.append(entry.name) }
        return names
    }

    public var underestimatedCount: Int { positions.count }

    public func contains(_ name: String) -> Bool { positions[name] != nil }

    /// Makes room for `capacity` initializers without regrowing.
    public mutating func reserveCapacity(_ capacity: Int) {
        entries.reserveCapacity(capacity)
        positions.reserveCapacity(capacity)
    }

    /// Appends `tensor` under `name` unless the name is taken (one lookup); false when it was,
    /// and the table is then unchanged.
    public mutating func insertNew(_ tensor: Tensor, named name: String) -> Bool {
        let next = entries.count
        guard Self.claim(&positions[name, default: next]) == next else { return false }
        entries.append(Entry(name: name, tensor: tensor))
        return true
    }

    /// The position stored in `slot` (which the dictionary's default subscript has just filled
    /// with the next free position when the name was new).
    private static func claim(_ slot: inout Int) -> Int { slot }

    /// Reading returns the tensor; assigning replaces it in place or appends it; assigning nil removes it.
    public subscript(name: String) -> Tensor? {
        get {
            guard let position = positions[name] else { return nil }
            return entries[position]?.tensor
        }
        set {
            if let newValue {
                let next = entries.count
                let position = Self.claim(&positions[name, default: next])
                if position == next {
                    entries.append(Entry(name: name, tensor: newValue))
                } else {
                    entries[position] = Entry(name: name, tensor: newValue)
                }
            } else if let removed = positions.removeValue(forKey: name) {
                entries[removed] = nil
                if entries.count > 64, positions.count < entries.count / 2 { compact() }
            }
        }
    }

    private mutating func compact() {
        var kept: [Entry?] = []
        kept.reserveCapacity(positions.count)
        for case let entry? in entries {
            positions[entry.name] = kept.count
            kept.append(entry)
        }
        entries = kept
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
    var slotCount: Int { entries.count }

    /// The name in slot `position` (nil for an empty slot or a position out of range).
    func name(inSlot position: Int) -> String? {
        guard position >= 0, position < entries.count else { return nil }
        return entries[position]?.name
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
