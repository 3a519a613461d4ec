/// The element type of a tensor or value, numbered as ONNX's `TensorProto.DataType`.
///
/// Tensors held by the IR are always stored in one of the `isStorable` types: half-precision
/// data (`float16`, `bfloat16`) is widened to `float32` when it is loaded, so every pass and
/// kernel sees at most float32/float64 arithmetic. The half types remain here because a graph's
/// declared inputs and outputs may still name them.
public enum ElementType: Int32, Sendable, Hashable, CaseIterable, Codable {
    case float32 = 1
    case uint8 = 2
    case int8 = 3
    case uint16 = 4
    case int16 = 5
    case int32 = 6
    case int64 = 7
    case bool = 9
    case float16 = 10
    case float64 = 11
    case uint32 = 12
    case uint64 = 13
    case bfloat16 = 16

    /// Bytes per element in the little-endian storage layout.
    public var byteSize: Int {
        switch self {
        case .uint8, .int8, .bool: 1
        case .uint16, .int16, .float16, .bfloat16: 2
        case .float32, .int32, .uint32: 4
        case .float64, .int64, .uint64: 8
        }
    }

    /// Whether tensors of this type can be held in the IR as they are (half types are widened).
    public var isStorable: Bool { self != .float16 && self != .bfloat16 }

    public var isFloatingPoint: Bool {
        switch self {
        case .float32, .float64, .float16, .bfloat16: true
        default: false
        }
    }

    /// The ONNX spelling, as used in messages and `inspect` output ("float", "int64", …).
    public var onnxName: String {
        switch self {
        case .float32: "float"
        case .uint8: "uint8"
        case .int8: "int8"
        case .uint16: "uint16"
        case .int16: "int16"
        case .int32: "int32"
        case .int64: "int64"
        case .bool: "bool"
        case .float16: "float16"
        case .float64: "double"
        case .uint32: "uint32"
        case .uint64: "uint64"
        case .bfloat16: "bfloat16"
        }
    }
}

extension ElementType: CustomStringConvertible {
    public var description: String { onnxName }
}
