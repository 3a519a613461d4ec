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
public struct InitializerTable: Equatable, Sendable, Sequence {
    public struct Entry: Equatable, Sendable {
        public let name: String
        public let tensor: Tensor
    }

    private struct Slot: Sendable {
        var position: Int
        var tensor: Tensor
    }

    /// Names in insertion order; nil where a name was removed (compacted when half are gaps),
    /// so removing is O(1) amortized even on graphs with thousands of weights.
    private var order: [String?] = []
    private var slots: [String: Slot] = [:]

    public init() {}

    public var count: Int { slots.count }
    public var isEmpty: Bool { slots.isEmpty }
    public var names: [String] { order.compactMap { $0 } }

    public func contains(_ name: String) -> Bool { slots[name] != nil }

    /// Reading returns the tensor; assigning replaces it in place or appends it; assigning nil removes it.
    public subscript(name: String) -> Tensor? {
        get { slots[name]?.tensor }
        set {
            if let newValue {
                if slots[name] != nil {
                    slots[name]!.tensor = newValue
                } else {
                    slots[name] = Slot(position: order.count, tensor: newValue)
                    order.append(name)
                }
            } else if let removed = slots.removeValue(forKey: name) {
                order[removed.position] = nil
                if order.count > 64, slots.count < order.count / 2 { compact() }
            }
        }
    }

    private mutating func compact() {
        let names: [String] = order.compactMap { $0 }
        order = names
        for (position, name) in names.enumerated() { slots[name]?.position = position }
    }

    public func makeIterator() -> some IteratorProtocol<Entry> {
        var index = 0
        let order = self.order
        let slots = self.slots
        return AnyIterator {
            while index < order.count {
                defer { index += 1 }
                if let name = order[index], let slot = slots[name] { return Entry(name: name, tensor: slot.tensor) }
            }
            return nil
        }
    }

    public static func == (lhs: InitializerTable, rhs: InitializerTable) -> Bool {
        lhs.names == rhs.names && lhs.slots.allSatisfy { rhs.slots[$0.key]?.tensor == $0.value.tensor }
    }
}
