import CONNXProto
import CProtobufC

/// Owns a ModelProto unpacked by protobuf-c (or a LazyModelProto, whose nodes and initializers
/// are still encoded). Tensors loaded from inline data view the arena's buffers, so the weights
/// exist once; the arena is freed when the last such tensor goes.
final class UnpackedModel: @unchecked Sendable {
    // Sendable is sound: after loading, the message is only read (through tensor views).
    let message: UnsafeMutablePointer<Onnx__ModelProto>?
    let lazyMessage: UnsafeMutablePointer<Onnx__LazyModelProto>?
    /// The arena holding the message and every buffer it points to.
    private let arena: OpaquePointer

    init(arena: OpaquePointer) {
        self.arena = arena
        message = ghost_onnx_model_message(arena)
        lazyMessage = ghost_onnx_lazy_model_message(arena)
    }

    deinit {
        ghost_onnx_free_model(arena)
    }
}

/// A reusable arena into which one node or initializer at a time is unpacked: what an unpack
/// returns is valid until the next unpack through the same scratch. One per thread.
final class ScratchArena {
    private let scratch: OpaquePointer?

    init() { scratch = ghost_onnx_scratch_create() }

    deinit { ghost_onnx_scratch_free(scratch) }

    /// nil when the bytes are not a valid NodeProto (or memory ran out).
    func node(_ encoded: ProtobufCBinaryData) -> UnsafeMutablePointer<Onnx__NodeProto>? {
        guard let scratch else { return nil }
        return withBytes(encoded) { ghost_onnx_unpack_node(scratch, $0, $1) }
    }

    func tensor(_ encoded: ProtobufCBinaryData) -> UnsafeMutablePointer<Onnx__TensorProto>? {
        guard let scratch else { return nil }
        return withBytes(encoded) { ghost_onnx_unpack_tensor(scratch, $0, $1) }
    }

    private func withBytes<T>(_ encoded: ProtobufCBinaryData, _ body: (UnsafePointer<UInt8>, Int) -> T?) -> T? {
        if let data = encoded.data { return body(data, encoded.len) }
        var empty: UInt8 = 0  // an empty field has no buffer; protobuf-c reads nothing of it
        return body(&empty, 0)
    }
}

/// A C string field as a Swift string ("" when absent).
func text(_ pointer: UnsafeMutablePointer<CChar>?) -> String {
    pointer.map { String(cString: $0) } ?? ""
}

/// A repeated message field (`n_x`, `x`) as an array of message pointers, skipping null slots.
func messages<T>(_ base: UnsafeMutablePointer<UnsafeMutablePointer<T>?>?, _ count: Int) -> [UnsafeMutablePointer<T>] {
    guard let base, count > 0 else { return [] }
    return UnsafeBufferPointer(start: base, count: count).compactMap { $0 }
}

/// A repeated string field as Swift strings.
func texts(_ base: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?, _ count: Int) -> [String] {
    guard let base, count > 0 else { return [] }
    return UnsafeBufferPointer(start: base, count: count).map { text($0) }
}

/// A repeated scalar field as an array.
func scalars<T>(_ base: UnsafeMutablePointer<T>?, _ count: Int) -> [T] {
    guard let base, count > 0 else { return [] }
    return Array(UnsafeBufferPointer(start: base, count: count))
}

/// The bytes of a protobuf-c bytes field.
func bytes(_ data: ProtobufCBinaryData) -> [UInt8] {
    guard let base = data.data, data.len > 0 else { return [] }
    return Array(UnsafeBufferPointer(start: base, count: data.len))
}

/// Key/value entries as pairs, in file order.
func entries(_ base: UnsafeMutablePointer<UnsafeMutablePointer<Onnx__StringStringEntryProto>?>?, _ count: Int) -> [(key: String, value: String)] {
    messages(base, count).map { (text($0.pointee.key), text($0.pointee.value)) }
}
