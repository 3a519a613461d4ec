import Foundation

/// A constant tensor: element type, shape and C-ordered little-endian bytes.
public struct Tensor: Sendable {
    public let elementType: ElementType
    public let shape: [Int]
    public let storage: TensorStorage

    /// Creates a tensor over `storage`, checking that the byte count matches the shape.
    public init(elementType: ElementType, shape: [Int], storage: TensorStorage) throws(TensorError) {
        guard elementType.isStorable else { throw .unstorableElementType(elementType) }
        let count = try Tensor.elementCount(of: shape)
        let (byteCount, overflow) = count.multipliedReportingOverflow(by: elementType.byteSize)
        guard !overflow else { throw .sizeOverflow(shape: shape) }
        guard byteCount == storage.byteCount else {
            throw .byteCountMismatch(expected: byteCount, actual: storage.byteCount)
        }
        self.elementType = elementType
        self.shape = shape
        self.storage = storage
    }

    /// The number of elements of `shape`, refusing negative dimensions and Int overflow.
    public static func elementCount(of shape: [Int]) throws(TensorError) -> Int {
        var count = 1
        for dimension in shape {
            guard dimension >= 0 else { throw .negativeDimension(shape: shape) }
            let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
            guard !overflow else { throw .sizeOverflow(shape: shape) }
            count = product
        }
        return count
    }

    public var elementCount: Int { storage.byteCount / elementType.byteSize }
    public var byteCount: Int { storage.byteCount }
    public var rank: Int { shape.count }
}

/// Why a tensor could not be formed.
public enum TensorError: Error, Equatable, Sendable {
    case negativeDimension(shape: [Int])
    case sizeOverflow(shape: [Int])
    case byteCountMismatch(expected: Int, actual: Int)
    case unstorableElementType(ElementType)
    case elementTypeMismatch(expected: ElementType, actual: ElementType)
}

extension TensorError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .negativeDimension(let shape): "shape \(shape) has a negative dimension"
        case .sizeOverflow(let shape): "shape \(shape) has more elements than fit in 64 bits"
        case .byteCountMismatch(let expected, let actual): "expected \(expected) bytes of data, found \(actual)"
        case .unstorableElementType(let type): "\(type) tensors are widened to float on load and cannot be stored as they are"
        case .elementTypeMismatch(let expected, let actual): "expected a \(expected) tensor, found \(actual)"
        }
    }
}

// MARK: - Typed construction and access

extension Tensor {
    public init(float32 values: [Float], shape: [Int]) throws(TensorError) {
        try self.init(elementType: .float32, shape: shape, storage: TensorStorage(values: values))
    }

    public init(float64 values: [Double], shape: [Int]) throws(TensorError) {
        try self.init(elementType: .float64, shape: shape, storage: TensorStorage(values: values))
    }

    public init(int64 values: [Int64], shape: [Int]) throws(TensorError) {
        try self.init(elementType: .int64, shape: shape, storage: TensorStorage(values: values))
    }

    /// The elements reinterpreted as `T`, which must match the element type's layout.
    /// Views into mapped files need not be aligned, so elements are loaded unaligned.
    public func elements<T: BitwiseCopyable>(as type: T.Type) -> [T] {
        let stride = MemoryLayout<T>.stride
        let count = storage.bytes.count / stride
        let bytes = storage.bytes
        return [T](filling: count) { buffer in
            if count > 0, let base = bytes.baseAddress {
                UnsafeMutableRawPointer(buffer.baseAddress!).copyMemory(from: base, byteCount: count * stride)
            }
        }
    }

    /// Every element converted to Double, whatever the numeric element type.
    public func doubleValues() -> [Double] {
        switch elementType {
        case .float32: elements(as: Float.self).map(Double.init)
        case .float64: elements(as: Double.self)
        case .int64: elements(as: Int64.self).map(Double.init)
        case .int32: elements(as: Int32.self).map(Double.init)
        case .int16: elements(as: Int16.self).map(Double.init)
        case .int8: elements(as: Int8.self).map(Double.init)
        case .uint8, .bool: elements(as: UInt8.self).map(Double.init)
        case .uint16: elements(as: UInt16.self).map(Double.init)
        case .uint32: elements(as: UInt32.self).map(Double.init)
        case .uint64: elements(as: UInt64.self).map { Double($0) }
        case .float16, .bfloat16: []
        }
    }

    /// Every element converted to Int64 (integers and bools; floats are truncated).
    public func int64Values() -> [Int64] {
        switch elementType {
        case .int64: elements(as: Int64.self)
        case .int32: elements(as: Int32.self).map(Int64.init)
        case .float32, .float64, .float16, .bfloat16: doubleValues().map { Int64(exactly: $0.rounded(.towardZero)) ?? 0 }
        default: doubleValues().map { Int64(exactly: $0) ?? 0 }
        }
    }
}

extension Tensor: Equatable {
    /// Tensors are equal when type, shape and every byte agree (so NaNs with equal bits are equal).
    public static func == (lhs: Tensor, rhs: Tensor) -> Bool {
        guard lhs.elementType == rhs.elementType, lhs.shape == rhs.shape,
              lhs.storage.bytes.count == rhs.storage.bytes.count else { return false }
        if lhs.storage === rhs.storage || lhs.storage.bytes.count == 0 { return true }
        return memcmp(lhs.storage.bytes.baseAddress!, rhs.storage.bytes.baseAddress!, lhs.storage.bytes.count) == 0
    }
}
