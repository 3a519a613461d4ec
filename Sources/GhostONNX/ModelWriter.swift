import CONNXProto
import CProtobufC
import Foundation
import GhostIR

/// Where tensor bytes go when a graph is written.
public enum ExternalDataPolicy: Sendable, Equatable {
    /// Inline, unless the weights would push the file past protobuf's 2 GB limit.
    case automatic
    /// Always inline; refuses graphs too large for one protobuf message.
    case never
    /// Every tensor of at least `threshold` bytes goes to one external file beside the model.
    case always(threshold: Int)
}

/// Why an ONNX file could not be written. Every case names the file.
public enum ONNXWriteError: Error, Equatable, Sendable {
    /// Creating, writing or moving the model file or its external data file failed.
    case output(FileOutputError)
    case tooLargeForInline(path: String, bytes: Int)
}

extension ONNXWriteError: CodedError {
    public var code: String {
        switch self {
        case .output(let error): error.code
        case .tooLargeForInline: "too-large-for-inline"
        }
    }

    public var errorDescription: String? {
        switch self {
        case .output(let error): error.localizedDescription
        case .tooLargeForInline(let path, let bytes):
            "\(path): the weights (\(bytes) bytes) exceed protobuf's 2 GB message limit; write them as external data"
        }
    }
}

/// Writes a Graph as an ONNX ModelProto through protobuf-c.
///
/// Tensor bytes are never copied: the message's raw_data fields point at the tensors' storage,
/// and protobuf-c streams the encoding to the file. Output is atomic (temporary file + rename)
/// and deterministic (the same graph gives the same bytes).
public enum ONNXWriter {
    /// protobuf's hard limit on one message, less room for the graph structure.
    static let inlineLimit = Int(Int32.max) - (64 << 20)

    public static func write(_ graph: Graph, to path: String, externalData: ExternalDataPolicy = .automatic) throws(ONNXWriteError) {
        let weightBytes = graph.parameterTotals.bytes
        let threshold: Int?
        switch externalData {
        case .never:
            guard weightBytes <= inlineLimit else { throw .tooLargeForInline(path: path, bytes: weightBytes) }
            threshold = nil
        case .automatic:
            threshold = weightBytes > inlineLimit ? 1024 : nil
        case .always(let minimum):
            threshold = minimum
        }
        do throws(FileOutputError) {
            let modelFile = try PendingFile(destination: path)
            var dataFile: PendingFile?
            let arena = CArena()
            var layout: ExternalLayout?
            if let threshold {
                let location = PathText.name(of: path) + ".data"
                layout = ExternalLayout(graph: graph, threshold: threshold, location: location)
                dataFile = try PendingFile(destination: PathText.join(PathText.directory(of: path), location))
            }
            // Deferred weights (the passes' results) are computed on another core while the
            // node messages are built; the initializer messages, built after them, then find
            // them ready (a weight is computed once, by whichever side reads it first).
            let initializers = graph.initializers
            let resolving = BackgroundWork {
                for entry in initializers where !entry.tensor.storage.isComputed { _ = entry.tensor.storage.bytes }
            }
            defer { _ = try? resolving.value() }
            let message = ModelEncoder(arena: arena, layout: layout).model(graph)
            let status = message.withMemoryRebound(to: ProtobufCMessage.self, capacity: 1) {
                ghost_onnx_pack_to_fd($0, modelFile.fileDescriptor)
            }
            guard status == 0 else { throw .writeFailed(path: path, reason: String(cString: strerror(status))) }
            if let layout, let dataFile {
                try layout.writeData(of: graph, to: dataFile)
                try dataFile.commit()
            }
            try modelFile.commit()
        } catch {
            throw .output(error)
        }
    }

    /// The encoded model as bytes, all weights inline (for tests and small graphs).
    public static func serialize(_ graph: Graph) -> [UInt8] {
        let arena = CArena()
        let message = ModelEncoder(arena: arena, layout: nil).model(graph)
        return message.withMemoryRebound(to: ProtobufCMessage.self, capacity: 1) { pointer in
            let size = protobuf_c_message_get_packed_size(pointer)
            var bytes = [UInt8](repeating: 0, count: size)
            bytes.withUnsafeMutableBufferPointer { _ = protobuf_c_message_pack(pointer, $0.baseAddress) }
            return bytes
        }
    }
}

/// Where each external tensor goes in the data file: 64-byte aligned, in initializer order.
struct ExternalLayout {
    struct Placement {
        let offset: Int
        let length: Int
    }

    static let alignment = 64
    let location: String
    let placements: [String: Placement]

    init(graph: Graph, threshold: Int, location: String) {
        self.location = location
        var offset = 0
        var placements: [String: Placement] = [:]
        for entry in graph.initializers where entry.tensor.byteCount >= threshold {
            offset = ExternalLayout.aligned(offset)
            placements[entry.name] = Placement(offset: offset, length: entry.tensor.byteCount)
            offset += entry.tensor.byteCount
        }
        self.placements = placements
    }

    static func aligned(_ offset: Int) -> Int {
        (offset + alignment - 1) / alignment * alignment
    }

    func writeData(of graph: Graph, to file: PendingFile) throws(FileOutputError) {
        var position = 0
        for entry in graph.initializers {
            guard let placement = placements[entry.name] else { continue }
            try file.writeZeros(placement.offset - position)
            try file.write(entry.tensor.storage.bytes)
            position = placement.offset + placement.length
        }
    }
}
