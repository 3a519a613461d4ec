/// A sub-graph (If/Loop/Scan body) kept as its encoded bytes. ghost-convert never rewrites inside
/// sub-graphs; carrying them encoded lets a model that has them load, pass through and be written
/// back unchanged.
public struct EncodedSubgraph: Hashable, Sendable {
    public var bytes: [UInt8]
    public init(bytes: [UInt8]) { self.bytes = bytes }
}

/// Attribute kinds that ghost-convert carries but does not interpret.
public enum OpaqueAttributeKind: String, Hashable, Sendable {
    case sparseTensor = "sparse_tensor"
    case sparseTensors = "sparse_tensors"
    case typeProto = "type_proto"
    case typeProtos = "type_protos"
}

public enum AttributeValue: Equatable, Sendable {
    case float(Float)
    case int(Int64)
    /// ONNX strings are bytes; most are ASCII (`auto_pad`, `mode`).
    case string([UInt8])
    case tensor(Tensor)
    case graph(EncodedSubgraph)
    case floats([Float])
    case ints([Int64])
    case strings([[UInt8]])
    case tensors([Tensor])
    case graphs([EncodedSubgraph])
    /// Encoded payloads of a kind listed in `OpaqueAttributeKind`.
    case opaque(OpaqueAttributeKind, [[UInt8]])

    /// The ONNX type name, for messages ("INT", "FLOATS", …).
    public var typeName: String {
        switch self {
        case .float: "FLOAT"
        case .int: "INT"
        case .string: "STRING"
        case .tensor: "TENSOR"
        case .graph: "GRAPH"
        case .floats: "FLOATS"
        case .ints: "INTS"
        case .strings: "STRINGS"
        case .tensors: "TENSORS"
        case .graphs: "GRAPHS"
        case .opaque(let kind, _): kind.rawValue.uppercased()
        }
    }
}

public struct Attribute: Equatable, Sendable {
    public var name: String
    public var value: AttributeValue
    public var docString: String

    public init(name: String, value: AttributeValue, docString: String = "") {
        self.name = name
        self.value = value
        self.docString = docString
    }
}

extension AttributeValue {
    public var intValue: Int64? {
        if case .int(let value) = self { return value }
        return nil
    }

    public var floatValue: Float? {
        if case .float(let value) = self { return value }
        return nil
    }

    public var intsValue: [Int64]? {
        if case .ints(let values) = self { return values }
        return nil
    }

    public var floatsValue: [Float]? {
        if case .floats(let values) = self { return values }
        return nil
    }

    /// The string decoded as UTF-8, when it is a string attribute holding valid UTF-8.
    public var stringValue: String? {
        if case .string(let bytes) = self { return String(validating: bytes, as: UTF8.self) }
        return nil
    }

    public var tensorValue: Tensor? {
        if case .tensor(let tensor) = self { return tensor }
        return nil
    }
}
