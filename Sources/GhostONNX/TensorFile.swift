import CONNXProto
import CProtobufC
import GhostIR

/// Reads a single serialized TensorProto (`input_0.pb` in ONNX's test-data layout).
public enum ONNXTensorFile {
    public static func read(path: String) throws(ONNXLoadError) -> (name: String, tensor: Tensor) {
        let mapping: MappedFile
        do {
            mapping = try MappedFile(path: path)
        } catch {
            throw .file(error)
        }
        guard let base = mapping.bytes.baseAddress else { throw .emptyFile(file: path) }
        guard let proto = onnx__tensor_proto__unpack(nil, mapping.bytes.count, base.assumingMemoryBound(to: UInt8.self)) else {
            throw .malformedProtobuf(file: path, offset: nil, detail: "protobuf-c could not decode it as a TensorProto")
        }
        let owner = UnpackedTensor(message: proto)
        let decoder = TensorDecoder(file: path, owner: owner, externalData: ExternalDataResolver(modelPath: path))
        return (text(proto.pointee.name), try decoder.decode(proto, fallbackName: ""))
    }
}

/// Owns a TensorProto unpacked by protobuf-c (tensors may view its buffers).
final class UnpackedTensor: @unchecked Sendable {
    // Sendable is sound: the message is only read after unpacking.
    let message: UnsafeMutablePointer<Onnx__TensorProto>

    init(message: UnsafeMutablePointer<Onnx__TensorProto>) { self.message = message }

    deinit { onnx__tensor_proto__free_unpacked(message, nil) }
}
