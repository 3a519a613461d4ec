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

    var count: Int { storage.count }

    var typeName: String {
        switch storage {
        case .float: "float"
        case .double: "double"
        case .int64: integerType.onnxName
        case .bool: "bool"
        }
    }

    var isFloatingPoint: Bool {
        switch storage {
        case .float, .double: true
        case .int64, .bool: false
        }
    }

    /// The elements as Int64 (integers, bools, or floats truncated toward zero and clamped to
    /// Int64's range, NaN as 0), e.g. shapes and axes.
    var int64Values: [Int64] {
        switch storage {
        case .int64(let v): v
        case .bool(let v): v.map { $0 ? 1 : 0 }
        case .float(let v): v.map { Buffer.truncated(Double($0)) }
        case .double(let v): v.map(Buffer.truncated)
        }
    }

    var doubleValues: [Double] {
        switch storage {
        case .float(let v): v.map(Double.init)
        case .double(let v): v
        case .int64(let v): v.map { Double($0) }
        case .bool(let v): v.map { $0 ? 1 : 0 }
        }
    }

    /// C's conversion of a float to an integer (toward zero), made total: out-of-range values
    /// clamp to Int64's extremes and NaN becomes 0 instead of trapping.
    static func truncated(_ value: Double) -> Int64 {
        guard !value.isNaN else { return 0 }
        // 2^63 is the first Double past Int64.max; −2^63 is Int64.min exactly.
        if value >= 0x1p63 { return .max }
        if value <= -0x1p63 { return .min }
        return Int64(value.rounded(.towardZero))
    }

    /// A buffer from a constant tensor, floating-point data in the run's precision.
    init(_ tensor: Tensor, precision: Precision) {
        shape = tensor.shape
        switch tensor.elementType {
        case .float32:
            let values = tensor.elements(as: Float.self)
            storage = precision == .float64 ? .double(values.map(Double.init)) : .float(values)
        case .float64:
            let values = tensor.elements(as: Double.self)
            storage = precision == .float64 ? .double(values) : .float(values.map { Float($0) })
        case .bool:
            storage = .bool(tensor.elements(as: UInt8.self).map { $0 != 0 })
        case .int64: storage = .int64(tensor.elements(as: Int64.self))
        case .int32: storage = .int64(tensor.elements(as: Int32.self).map { Int64($0) })
        case .int16: storage = .int64(tensor.elements(as: Int16.self).map { Int64($0) })
        case .int8: storage = .int64(tensor.elements(as: Int8.self).map { Int64($0) })
        case .uint8: storage = .int64(tensor.elements(as: UInt8.self).map { Int64($0) })
        case .uint16: storage = .int64(tensor.elements(as: UInt16.self).map { Int64($0) })
        case .uint32: storage = .int64(tensor.elements(as: UInt32.self).map { Int64($0) })
        // Values above Int64.max wrap; two's-complement Add/Sub/Mul stay exact modulo 2^64.
        case .uint64: storage = .int64(tensor.elements(as: UInt64.self).map { Int64(truncatingIfNeeded: $0) })
        case .float16, .bfloat16:
            // The IR widens half types when loading, so a tensor never holds them; be total anyway.
            storage = precision == .float64 ? .double(tensor.doubleValues()) : .float(tensor.doubleValues().map { Float($0) })
        }
        if !tensor.elementType.isFloatingPoint, tensor.elementType != .bool { integerType = tensor.elementType }
    }

    init(shape: [Int], storage: Storage, integerType: ElementType = .int64) {
        self.shape = shape
        self.storage = storage
        self.integerType = integerType
    }

    /// The value as an IR tensor; integers in the ONNX type they stand for. Float, double and
    /// int64 tensors view the buffer's own array instead of copying it (a 16×640² output
    /// is 26 MB; copying it cost as much as computing it).
    func tensor() -> Tensor? {
        switch storage {
        case .float(let v): return try? Tensor(elementType: .float32, shape: shape, storage: ArrayBytes.storage(viewing: v))
        case .double(let v): return try? Tensor(elementType: .float64, shape: shape, storage: ArrayBytes.storage(viewing: v))
        case .bool(let v):
            return try? Tensor(elementType: .bool, shape: shape, storage: TensorStorage(values: v.map { UInt8($0 ? 1 : 0) }))
        case .int64(let v):
            let storage: TensorStorage
            switch integerType {
            case .int32: storage = TensorStorage(values: v.map { Int32(truncatingIfNeeded: $0) })
            case .int16: storage = TensorStorage(values: v.map { Int16(truncatingIfNeeded: $0) })
            case .int8: storage = TensorStorage(values: v.map { Int8(truncatingIfNeeded: $0) })
            case .uint8: storage = TensorStorage(values: v.map { UInt8(truncatingIfNeeded: $0) })
            case .uint16: storage = TensorStorage(values: v.map { UInt16(truncatingIfNeeded: $0) })
            case .uint32: storage = TensorStorage(values: v.map { UInt32(truncatingIfNeeded: $0) })
            case .uint64: storage = TensorStorage(values: v.map { UInt64(truncatingIfNeeded: $0) })
            default: return try? Tensor(elementType: .int64, shape: shape, storage: ArrayBytes.storage(viewing: v))
            }
            return try? Tensor(elementType: integerType, shape: shape, storage: storage)
        }
    }
}

/// Keeps an array alive, unchanged, for the tensor storage that views its elements.
private final class ArrayBytes<Element: BitwiseCopyable>: @unchecked Sendable {
    // Sendable is sound: `values` is immutable and only read through the view.
    let values: [Element]

    private init(_ values: [Element]) { self.values = values }

    /// Storage whose bytes are `values`' elements, in place. The pointer stays valid after
    /// `withUnsafeBytes` returns because a native array's elements live in one heap buffer that
    /// the owner holds and never mutates (so never reallocates or copies on write).
    static func storage(viewing values: [Element]) -> TensorStorage {
        let owner = ArrayBytes(values)
        let bytes = owner.values.withUnsafeBytes { $0 }
        return TensorStorage(viewing: bytes, owner: owner)
    }
}

extension Buffer.Storage {
    var count: Int {
        switch self {
        case .float(let v): v.count
        case .double(let v): v.count
        case .int64(let v): v.count
        case .bool(let v): v.count
        }
    }

    /// The elements at `indices`, in that order.
    func picking(_ indices: [Int]) -> Buffer.Storage {
        switch self {
        case .float(let v): .float(indices.map { v[$0] })
        case .double(let v): .double(indices.map { v[$0] })
        case .int64(let v): .int64(indices.map { v[$0] })
        case .bool(let v): .bool(indices.map { v[$0] })
        }
    }

    /// The elements `start ..< start + length` for each start, concatenated (Slice, Split).
    func copyingBlocks(at starts: [Int], length: Int) -> Buffer.Storage {
        func copy<T>(_ values: [T]) -> [T] {
            [T](filling: starts.count * length) { out in
                values.withUnsafeBufferPointer { source in
                    guard length > 0 else { return }
                    for (index, start) in starts.enumerated() {
                        (out.baseAddress! + index * length).initialize(from: source.baseAddress! + start, count: length)
                    }
                }
            }
        }
        return switch self {
        case .float(let v): .float(copy(v))
        case .double(let v): .double(copy(v))
        case .int64(let v): .int64(copy(v))
        case .bool(let v): .bool(copy(v))
        }
    }

    /// `count` copies of element 0 (ConstantOfShape, Pad's fill).
    func repeating(_ count: Int) -> Buffer.Storage {
        switch self {
        case .float(let v): .float([Float](repeating: v.first ?? 0, count: count))
        case .double(let v): .double([Double](repeating: v.first ?? 0, count: count))
        case .int64(let v): .int64([Int64](repeating: v.first ?? 0, count: count))
        case .bool(let v): .bool([Bool](repeating: v.first ?? false, count: count))
        }
    }
}

/// Arithmetic of a run: float32 as deployed, or float64 to separate folding error from rounding.
public enum Precision: String, Sendable, CaseIterable {
    case float32, float64
}
