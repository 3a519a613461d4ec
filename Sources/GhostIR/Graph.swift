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
