import CONNXProto
import CProtobufC
import GhostIR

/// Turns TensorProtos into IR tensors without copying where the bytes can be viewed in place:
/// `raw_data` and the typed fields whose C layout already matches the element type view the
/// unpacked message; external data views its memory-mapped file. Half-precision data is widened
/// to float32 (a copy), and narrow integer types stored in `int32_data` are narrowed (a copy).
struct TensorDecoder {
    let file: String
    /// Keeps the unpacked message alive for tensors that view it.
    let owner: AnyObject
    let externalData: ExternalDataResolver
    /// Whether the messages decoded live in a `ScratchArena` (emptied before the next one): then
    /// nothing may view them, and bytes are viewed in the message's encoding (which `owner`
    /// keeps) or copied.
    var scratchMessages = false

    func decode(_ proto: UnsafeMutablePointer<Onnx__TensorProto>, fallbackName: String) throws(ONNXLoadError) -> Tensor {
        try decode(proto, name: proto.pointee.name.map { String(cString: $0) } ?? fallbackName)
    }

    /// `name` is the tensor's name as messages should give it (the caller has decoded it).
    /// With `shapes`, a shape equal to a recent one shares its array. `encoding` is the
    /// message's encoded bytes, kept alive by `owner`, when the message is in a scratch arena.
    func decode(_ proto: UnsafeMutablePointer<Onnx__TensorProto>, name: String, shapes: ShapeCache? = nil,
                encoding: UnsafeRawBufferPointer? = nil) throws(ONNXLoadError) -> Tensor {
        let tensorProto = proto.pointee
        let code = tensorProto.has_data_type != 0 ? tensorProto.data_type : 0
        guard let declaredType = ElementType(rawValue: code) else {
            throw .unknownElementType(file: file, tensor: name, code: code)
        }
        let shape = try checkedShape(tensorProto.dims, tensorProto.n_dims, tensor: name, shapes: shapes)
        let count = try elementCount(shape, tensor: name, tensorProto)
        let (byteCount, overflow) = count.multipliedReportingOverflow(by: declaredType.byteSize)
        guard !overflow else { throw .sizeOverflow(file: file, tensor: name, dims: scalars(tensorProto.dims, tensorProto.n_dims)) }

        let bytes: UnsafeRawBufferPointer
        let viewOwner: AnyObject
        if tensorProto.has_data_location != 0, tensorProto.data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL {
            let entries = entries(tensorProto.external_data, tensorProto.n_external_data)
            (bytes, viewOwner) = try externalData.bytes(for: name, entries: entries, byteCount: byteCount)
        } else if tensorProto.has_raw_data != 0 {
            guard tensorProto.raw_data.len == byteCount else {
                throw .rawDataSizeMismatch(file: file, tensor: name, expected: byteCount, actual: tensorProto.raw_data.len)
            }
            bytes = UnsafeRawBufferPointer(start: tensorProto.raw_data.data, count: byteCount)
            if !scratchMessages {
                viewOwner = owner
            } else if let inEncoding = rawData(in: encoding, byteCount: byteCount) {
                // The same bytes where the file's encoding has them (protobuf-c copied them
                // out of there into the scratch): view those, which stay.
                return try makeTensor(type: declaredType, shape: shape, bytes: inEncoding, owner: owner, name: name)
            } else {
                return try makeTensor(type: declaredType, shape: shape, bytes: bytes, owner: nil, name: name)
            }
        } else {
            return try decodeTypedFields(tensorProto, type: declaredType, shape: shape, count: count, name: name)
        }
        return try makeTensor(type: declaredType, shape: shape, bytes: bytes, owner: viewOwner, name: name)
    }

    /// The dims as sizes, read straight from the message (no intermediate array), or a recent
    /// equal shape's array from `shapes`.
    private func checkedShape(_ dims: UnsafeMutablePointer<Int64>?, _ count: Int, tensor: String, shapes: ShapeCache?) throws(ONNXLoadError) -> [Int] {
        guard let dims, count > 0 else { return [] }
        if let shapes {
            let dimensions = UnsafeBufferPointer(start: dims, count: count)
            if let shared = shapes.shape(equalTo: dimensions) { return shared }
            let shape = try checkedShape(dims, count, tensor: tensor, shapes: nil)
            shapes.remember(shape)
            return shape
        }
        var shape: [Int] = []
        shape.reserveCapacity(count)
        for index in 0..<count {
            let dim = dims[index]
            guard dim >= 0 else { throw .invalidDimension(file: file, name: tensor, dimension: index, value: dim) }
            shape.append(Int(dim))
        }
        return shape
    }

    private func elementCount(_ shape: [Int], tensor: String, _ proto: Onnx__TensorProto) throws(ONNXLoadError) -> Int {
        do {
            return try Tensor.elementCount(of: shape)
        } catch {
            throw .sizeOverflow(file: file, tensor: tensor, dims: scalars(proto.dims, proto.n_dims))
        }
    }

    /// The `raw_data` payload (field 9) inside a TensorProto's encoding, when it is there with
    /// exactly `byteCount` bytes (protobuf-c keeps the last occurrence, and so does the search).
    private func rawData(in encoding: UnsafeRawBufferPointer?, byteCount: Int) -> UnsafeRawBufferPointer? {
        guard let encoding, let base = encoding.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return nil }
        var offset = 0, length = 0
        guard ghost_onnx_find_bytes_field(base, encoding.count, 9, &offset, &length) == 1, length == byteCount,
              offset <= encoding.count - length else { return nil }
        return UnsafeRawBufferPointer(rebasing: encoding[offset..<offset + length])
    }

    /// Tensors stored as little-endian bytes of `type` (raw or external): viewed in place (or,
    /// without an owner, copied), or widened when half precision.
    private func makeTensor(type: ElementType, shape: [Int], bytes: UnsafeRawBufferPointer, owner: AnyObject?, name: String) throws(ONNXLoadError) -> Tensor {
        let storage: TensorStorage
        switch type {
        case .float16: storage = HalfPrecision.widen(bytes, from: .float16)
        case .bfloat16: storage = HalfPrecision.widen(bytes, from: .bfloat16)
        default: storage = owner.map { TensorStorage(viewing: bytes, owner: $0) } ?? TensorStorage(copying: bytes)
        }
        return try tensor(type.isStorable ? type : .float32, shape, storage, name)
    }

    /// Tensors stored in the typed repeated fields, chosen by element type as the ONNX spec says.
    private func decodeTypedFields(_ proto: Onnx__TensorProto, type: ElementType, shape: [Int], count: Int, name: String) throws(ONNXLoadError) -> Tensor {
        func check(_ field: String, _ actual: Int) throws(ONNXLoadError) {
            guard actual == count else {
                if actual == 0 { throw .missingTensorData(file: file, tensor: name) }
                throw .typedDataCountMismatch(file: file, tensor: name, field: field, expected: count, actual: actual)
            }
        }
        func view<T>(_ pointer: UnsafeMutablePointer<T>?) -> TensorStorage {
            let bytes = UnsafeRawBufferPointer(start: pointer, count: count * MemoryLayout<T>.stride)
            return scratchMessages ? TensorStorage(copying: bytes) : TensorStorage(viewing: bytes, owner: owner)
        }
        let storage: TensorStorage
        switch type {
        case .float32:
            try check("float_data", proto.n_float_data)
            storage = view(proto.float_data)
        case .float64:
            try check("double_data", proto.n_double_data)
            storage = view(proto.double_data)
        case .int64:
            try check("int64_data", proto.n_int64_data)
            storage = view(proto.int64_data)
        case .int32:
            try check("int32_data", proto.n_int32_data)
            storage = view(proto.int32_data)
        case .uint32, .uint64:
            try check("uint64_data", proto.n_uint64_data)
            let values = scalars(proto.uint64_data, count)
            storage = type == .uint64 ? view(proto.uint64_data) : TensorStorage(values: values.map { UInt32(truncatingIfNeeded: $0) })
        case .int8, .uint8, .bool, .int16, .uint16, .float16, .bfloat16:
            // The spec stores these in int32_data, one value (or 16-bit pattern) per entry.
            try check("int32_data", proto.n_int32_data)
            let values = scalars(proto.int32_data, count)
            switch type {
            case .int8: storage = TensorStorage(values: values.map { Int8(truncatingIfNeeded: $0) })
            case .uint8, .bool: storage = TensorStorage(values: values.map { UInt8(truncatingIfNeeded: $0) })
            case .int16: storage = TensorStorage(values: values.map { Int16(truncatingIfNeeded: $0) })
            case .uint16: storage = TensorStorage(values: values.map { UInt16(truncatingIfNeeded: $0) })
            default:
                let patterns = values.map { UInt16(truncatingIfNeeded: $0) }
                storage = patterns.withUnsafeBytes { HalfPrecision.widen($0, from: type) }
            }
        }
        return try tensor(type.isStorable ? type : .float32, shape, storage, name)
    }

    private func tensor(_ type: ElementType, _ shape: [Int], _ storage: TensorStorage, _ name: String) throws(ONNXLoadError) -> Tensor {
        do {
            return try Tensor(elementType: type, shape: shape, storage: storage)
        } catch {
            // Sizes were checked above; reaching this means the checks and Tensor disagree.
            throw .rawDataSizeMismatch(file: file, tensor: name, expected: storage.bytes.count, actual: storage.bytes.count)
        }
    }
}

/// The last few distinct shapes the initializers had. A 200k-node export has 400k weights in a
/// handful of shapes: sharing their arrays saves 400k allocations (and their fresh pages) on
/// load, and as many releases later. Used by one thread (the initializer loop).
final class ShapeCache {
    private var recent: [[Int]] = []
    private var next = 0
    private static let size = 8

    /// A remembered shape with exactly these (non-negative) dims.
    func shape(equalTo dims: UnsafeBufferPointer<Int64>) -> [Int]? {
        for shape in recent where shape.count == dims.count {
            var same = true
            for (size, dim) in zip(shape, dims) where Int64(size) != dim {
                same = false
                break
            }
            if same { return shape }
        }
        return nil
    }

    func remember(_ shape: [Int]) {
        if recent.count < Self.size {
            recent.append(shape)
        } else {
            recent[next] = shape
            next = (next + 1) % Self.size
        }
    }
}

/// Widening of IEEE half and bfloat16 to float32.
enum HalfPrecision {
    static func widen(_ bytes: UnsafeRawBufferPointer, from type: ElementType) -> TensorStorage {
        let count = bytes.count / 2
        return TensorStorage(byteCount: count * 4) { destination in
            for index in 0..<count {
                let bits = bytes.loadUnaligned(fromByteOffset: index * 2, as: UInt16.self)
                let value = type == .bfloat16 ? Float(bitPattern: UInt32(bits) << 16) : halfToFloat(bits)
                destination.storeBytes(of: value, toByteOffset: index * 4, as: Float.self)
            }
        }
    }

    static func halfToFloat(_ bits: UInt16) -> Float {
        let sign: Float = bits & 0x8000 != 0 ? -1 : 1
        let exponent = Int((bits >> 10) & 0x1F)
        let fraction = Float(bits & 0x3FF)
        switch exponent {
        case 0: return sign * fraction * 0x1p-24  // subnormal (and zero)
        case 31: return fraction == 0 ? sign * .infinity : .nan
        default: return sign * (1 + fraction / 1024) * Float(sign: .plus, exponent: exponent - 15, significand: 1)
        }
    }
}
