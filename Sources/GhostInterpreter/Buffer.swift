import GhostIR

/// A runtime value: a shape and its elements in C order. Floating-point data is Float or Double
/// (by the run's precision); integer data is Int64 (every ONNX integer type is widened to it, as
/// only shape arithmetic uses integers in these networks); bool is Bool.
struct Buffer: Sendable {
    enum Storage: Sendable {
        case float([Float])
        case double([Double])
        case int64([Int64])
        case bool([Bool])
    }

    var shape: [Int]
    var storage: Storage
    /// The ONNX integer type this Int64 data stands for, so outputs keep their declared type.
    var integerType: ElementType = .int64

    var count: Int {
        switch storage {
        case .float(let v): v.count
        case .double(let v): v.count
        case .int64(let v): v.count
        case .bool(let v): v.count
        }
    }

    var typeName: String {
        switch storage {
        case .float: "float"
        case .double: "double"
        case .int64: integerType.onnxName
        case .bool: "bool"
        }
    }

    /// The elements as Int64 (integers, bools, or floats truncated), e.g. shapes and axes.
    var int64Values: [Int64] {
        switch storage {
        case .int64(let v): v
        case .bool(let v): v.map { $0 ? 1 : 0 }
        case .float(let v): v.map { Int64($0.isFinite ? $0.rounded(.towardZero) : 0) }
        case .double(let v): v.map { Int64($0.isFinite ? $0.rounded(.towardZero) : 0) }
        }
    }

    var doubleValues: [Double] {
        switch storage {
        case .float(let v): v.map(Double.init)
        case .double(let v): v
        case .int64(let v): v.map(Double.init)
        case .bool(let v): v.map { $0 ? 1 : 0 }
        }
    }

    /// A buffer from a constant tensor, floating-point data in the run's precision.
    init(_ tensor: Tensor, precision: Precision) {
        shape = tensor.shape
        switch tensor.elementType {
        case .float32:
            storage = precision == .float64 ? .double(tensor.elements(as: Float.self).map(Double.init)) : .float(tensor.elements(as: Float.self))
        case .float64:
            storage = precision == .float64 ? .double(tensor.elements(as: Double.self)) : .float(tensor.elements(as: Double.self).map { Float($0) })
        case .bool:
            storage = .bool(tensor.elements(as: UInt8.self).map { $0 != 0 })
        default:
            storage = .int64(tensor.int64Values())
            integerType = tensor.elementType
        }
    }

    init(shape: [Int], storage: Storage, integerType: ElementType = .int64) {
        self.shape = shape
        self.storage = storage
        self.integerType = integerType
    }

    /// The value as an IR tensor (integers in their ONNX type where it is int64/int32, else int64).
    func tensor() -> Tensor? {
        switch storage {
        case .float(let v): return try? Tensor(float32: v, shape: shape)
        case .double(let v): return try? Tensor(float64: v, shape: shape)
        case .int64(let v):
            if integerType == .int32 {
                return try? Tensor(elementType: .int32, shape: shape, storage: TensorStorage(values: v.map { Int32(truncatingIfNeeded: $0) }))
            }
            return try? Tensor(int64: v, shape: shape)
        case .bool(let v):
            return try? Tensor(elementType: .bool, shape: shape, storage: TensorStorage(values: v.map { UInt8($0 ? 1 : 0) }))
        }
    }
}

/// Arithmetic of a run: float32 as deployed, or float64 to separate folding error from rounding.
public enum Precision: String, Sendable, CaseIterable {
    case float32, float64
}
