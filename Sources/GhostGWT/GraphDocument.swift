import GhostIR

/// The JSON of the graph section, field for field as docs/gwt-format.md describes it
/// (Swift names are the spec's snake_case keys in camelCase).
struct GraphDocument: Codable {
    var name: String
    var docString: String
    var irVersion: Int64
    var producerName: String
    var producerVersion: String
    var domain: String
    var modelVersion: Int64
    var modelDocString: String
    var metadataProps: [KeyValue]
    var opsets: [OpsetRecord]
    var inputs: [ValueRecord]
    var outputs: [ValueRecord]
    var valueInfo: [ValueRecord]
    var initializers: [TensorRecord]
    var attributeTensors: [TensorRecord]
    var nodes: [NodeRecord]
}

struct KeyValue: Codable {
    var key: String
    var value: String
}

struct OpsetRecord: Codable {
    var domain: String
    var version: Int64
}

struct ValueRecord: Codable {
    var name: String
    var dtype: String?
    var shape: [DimensionRecord]?
}

/// A dimension: an int (fixed), a string (symbolic) or null (unknown).
enum DimensionRecord: Codable {
    case fixed(Int64)
    case symbolic(String)
    case unknown

    init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .unknown
        } else if let size = try? container.decode(Int64.self) {
            self = .fixed(size)
        } else {
            self = .symbolic(try container.decode(String.self))
        }
    }

    func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .fixed(let size): try container.encode(size)
        case .symbolic(let name): try container.encode(name)
        case .unknown: try container.encodeNil()
        }
    }
}

struct TensorRecord: Codable, Sendable {
    var name: String
    var dtype: String
    var shape: [Int64]
    var offset: Int64
    var length: Int64
}

struct NodeRecord: Codable {
    var name: String
    var opType: String
    var domain: String
    var inputs: [String]
    var outputs: [String]
    var attributes: [AttributeRecord]
    var fusedFrom: [String]
    var docString: String
}

/// An attribute: its type name decides the JSON type of `value`.
struct AttributeRecord: Codable {
    enum Payload {
        case float(Float)
        case int(Int64)
        case floats([Float])
        case ints([Int64])
        /// string, strings, graph(s), sparse tensor(s), type proto(s): base64 texts.
        case base64([String])
        case tensorIndices([Int])
    }

    var name: String
    var type: String
    var payload: Payload

    enum CodingKeys: String, CodingKey { case name, type, value }

    /// Types whose value is a single base64 string rather than an array.
    static let singleBase64Types: Set<String> = ["string", "graph"]
    static let base64Types: Set<String> = ["string", "strings", "graph", "graphs", "sparse_tensor", "sparse_tensors", "type_proto", "type_protos"]

    init(name: String, type: String, payload: Payload) {
        self.name = name
        self.type = type
        self.payload = payload
    }

    init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        type = try container.decode(String.self, forKey: .type)
        switch type {
        case "float": payload = .float(try container.decode(Float.self, forKey: .value))
        case "int": payload = .int(try container.decode(Int64.self, forKey: .value))
        case "floats": payload = .floats(try container.decode([Float].self, forKey: .value))
        case "ints": payload = .ints(try container.decode([Int64].self, forKey: .value))
        case "tensor": payload = .tensorIndices([try container.decode(Int.self, forKey: .value)])
        case "tensors": payload = .tensorIndices(try container.decode([Int].self, forKey: .value))
        case _ where Self.singleBase64Types.contains(type):
            payload = .base64([try container.decode(String.self, forKey: .value)])
        case _ where Self.base64Types.contains(type):
            payload = .base64(try container.decode([String].self, forKey: .value))
        default:
            throw DecodingError.dataCorruptedError(forKey: .type, in: container, debugDescription: "unknown attribute type '\(type)'")
        }
    }

    func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encode(type, forKey: .type)
        switch payload {
        case .float(let value): try container.encode(value, forKey: .value)
        case .int(let value): try container.encode(value, forKey: .value)
        case .floats(let values): try container.encode(values, forKey: .value)
        case .ints(let values): try container.encode(values, forKey: .value)
        case .tensorIndices(let indices):
            if type == "tensor" { try container.encode(indices.first ?? 0, forKey: .value) } else { try container.encode(indices, forKey: .value) }
        case .base64(let texts):
            if Self.singleBase64Types.contains(type) { try container.encode(texts.first ?? "", forKey: .value) } else { try container.encode(texts, forKey: .value) }
        }
    }
}

/// The metadata section (docs/gwt-format.md, section 1).
public struct GWTMetadata: Codable, Equatable, Sendable {
    public struct PassCount: Codable, Equatable, Sendable {
        public var name: String
        public var rewrites: Int

        public init(name: String, rewrites: Int) {
            self.name = name
            self.rewrites = rewrites
        }
    }

    public var format: String
    public var tool: String
    public var sourceSha256: String
    public var sourceFile: String
    public var passes: [PassCount]

    public init(tool: String, sourceSha256: String = "", sourceFile: String = "", passes: [PassCount] = []) {
        format = "gwt"
        self.tool = tool
        self.sourceSha256 = sourceSha256
        self.sourceFile = sourceFile
        self.passes = passes
    }
}

/// dtype names of the format, and the IR element types they stand for.
enum DTypeName {
    static let byType: [ElementType: String] = Dictionary(uniqueKeysWithValues: ElementType.allCases.filter(\.isStorable).map { ($0, valueName($0)) })
    static let byName: [String: ElementType] = Dictionary(uniqueKeysWithValues: byType.map { ($1, $0) })

    /// For declared value types, half types (which tensors never hold) keep their own names.
    /// A switch, not a lookup: the writer names every tensor and value.
    static func valueName(_ type: ElementType) -> String {
        switch type {
        case .float32: "float32"
        case .float64: "float64"
        case .int64: "int64"
        case .int32: "int32"
        case .int16: "int16"
        case .int8: "int8"
        case .uint8: "uint8"
        case .uint16: "uint16"
        case .uint32: "uint32"
        case .uint64: "uint64"
        case .bool: "bool"
        case .float16: "float16"
        case .bfloat16: "bfloat16"
        }
    }

    static func valueType(_ name: String) -> ElementType? {
        byName[name] ?? (name == "float16" ? .float16 : name == "bfloat16" ? .bfloat16 : nil)
    }
}
