import CONNXProto
import CProtobufC
import Foundation
import GhostIR

/// A model loaded from an ONNX file: its graph, and facts about where its bytes came from.
public struct LoadedModel: Sendable {
    public let graph: Graph
    public let source: ModelSource
}

public struct ModelSource: Sendable, Equatable {
    /// The path as given.
    public let path: String
    /// Size of the .onnx file itself.
    public let fileBytes: Int
    /// External data files (locations relative to the model) and the bytes referenced in each.
    public let externalData: [String: Int]
}

/// Reads ONNX files through libprotobuf-c.
///
/// Data flow: the file is memory-mapped, protobuf-c unpacks it into an arena of large mappings
/// (copying each bytes field once), and the file's mapping is released straight away. Tensors then view the unpacked message's buffers,
/// or the memory-mapped external data files, so weights exist once in memory.
public enum ONNXModelLoader {
    public static func load(contentsOf url: URL) throws(ONNXLoadError) -> LoadedModel {
        try load(path: url.path)
    }

    public static func load(path: String) throws(ONNXLoadError) -> LoadedModel {
        // First the lazy unpack (nodes and initializers left encoded, each unpacked on its own
        // into a reused scratch arena). On any failure, the whole file is loaded again the
        // classic way, whose verdict and error (the first malformed byte before any semantic
        // check, for one) are the reference: the two accept exactly the same files, and the
        // lazy one only decides faster.
        if let loaded = try? load(path: path, lazily: true) { return loaded }
        return try load(path: path, lazily: false)
    }

    private static func load(path: String, lazily: Bool) throws(ONNXLoadError) -> LoadedModel {
        let arena: OpaquePointer
        let fileBytes: Int
        do {
            let mapping: MappedFile
            do {
                mapping = try MappedFile(path: path)
            } catch {
                throw ONNXLoadError.file(error)
            }
            fileBytes = mapping.bytes.count
            guard let base = mapping.bytes.baseAddress else { throw ONNXLoadError.emptyFile(file: path) }
            mapping.adviseSequential()
            let bytes = base.assumingMemoryBound(to: UInt8.self)
            let unpacked = lazily ? ghost_onnx_unpack_lazy_model(bytes, mapping.bytes.count) : ghost_onnx_unpack_model(bytes, mapping.bytes.count)
            guard let unpacked else {
                let problem = WireFormatDiagnosis.firstProblem(in: mapping.bytes)
                throw ONNXLoadError.malformedProtobuf(
                    file: path, offset: problem?.offset,
                    detail: problem?.detail ?? "protobuf-c could not decode it as a ModelProto")
            }
            arena = unpacked
        }  // the mapping is released here, before the IR is built
        let owner = UnpackedModel(arena: arena)
        let resolver = ExternalDataResolver(modelPath: path)
        let decoder = GraphDecoder(file: path, owner: owner, externalData: resolver)
        let graph = try lazily ? decoder.decodeLazyModel() : decoder.decodeModel()
        return LoadedModel(graph: graph, source: ModelSource(path: path, fileBytes: fileBytes, externalData: resolver.referencedBytes))
    }
}

/// A value handed to another thread that the compiler cannot prove safe to share: protobuf-c
/// message pointers (read only after unpacking) and the decoders that read them.
struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
}

/// ModelProto/GraphProto → Graph, then the structural checks of `GraphVerifier`.
struct GraphDecoder {
    let file: String
    let owner: UnpackedModel
    let externalData: ExternalDataResolver

    func decodeModel() throws(ONNXLoadError) -> Graph {
        guard let model = owner.message?.pointee else { throw .missingGraph(file: file) }
        guard let graphProto = model.graph?.pointee else { throw .missingGraph(file: file) }
        let opsets = messages(model.opset_import, model.n_opset_import).map {
            OpsetImport(domain: normalizedDomain(text($0.pointee.domain)), version: $0.pointee.version)
        }
        guard opsets.contains(where: { $0.domain.isEmpty }) else { throw .missingOpset(file: file) }
        let metadata = ModelMetadata(
            irVersion: model.has_ir_version != 0 ? model.ir_version : 0,
            producerName: text(model.producer_name), producerVersion: text(model.producer_version),
            domain: text(model.domain), modelVersion: model.has_model_version != 0 ? model.model_version : 0,
            docString: text(model.doc_string),
            properties: entries(model.metadata_props, model.n_metadata_props).map { MetadataProperty(key: $0.key, value: $0.value) })

        let tensors = TensorDecoder(file: file, owner: owner, externalData: externalData)
        // Nodes are decoded on another core while the initializers are decoded here: the two
        // share nothing but the external-data resolver, which locks. Errors are reported as a
        // sequential decode would: an initializer's first, then the first node's.
        let nodeDecoder = NodeDecoder(file: file, tensors: tensors)
        let nodeList = UncheckedSendable(value: (decoder: nodeDecoder, base: graphProto.node, count: graphProto.n_node))
        let decodedNodes = BackgroundWork { () -> Result<[Node], ONNXLoadError> in
            let (decoder, base, count) = nodeList.value
            var nodes: [Node] = []
            nodes.reserveCapacity(count)
            do throws(ONNXLoadError) {
                for (index, proto) in messages(base, count).enumerated() {
                    nodes.append(try decoder.decode(proto, index: index))
                }
            } catch {
                return .failure(error)
            }
            return .success(nodes)
        }
        func collectNodes() throws(ONNXLoadError) -> [Node] {
            do {
                return try decodedNodes.value().get()
            } catch let error as ONNXLoadError {
                throw error
            } catch {
                // The work returns its errors as values; nothing else can arrive here.
                throw .invalidNode(file: file, node: "", problem: "node decoding stopped: \(error)")
            }
        }
        var initializers = InitializerTable()
        initializers.reserveCapacity(graphProto.n_initializer)
        let shapes = ShapeCache()
        // Straight from the C array: no array of 400k message pointers first.
        for slot in UnsafeBufferPointer(start: graphProto.initializer, count: graphProto.initializer == nil ? 0 : graphProto.n_initializer) {
            guard let proto = slot else { continue }
            let name = text(proto.pointee.name)
            let tensor: Tensor
            do {
                tensor = try tensors.decode(proto, name: name, shapes: shapes)
            } catch {
                _ = try? decodedNodes.value()  // the node work reads the message: let it finish first
                throw error
            }
            guard initializers.insertNew(tensor, named: name) else {
                _ = try? decodedNodes.value()
                throw .invalidGraph(file: file, defect: .duplicateDefinition(value: name, definedBy: ["initializer", "initializer"]))
            }
        }
        let nodes = try collectNodes()
        let graph = Graph(
            name: text(graphProto.name),
            inputs: try values(graphProto.input, graphProto.n_input, tensorsOnly: true),
            outputs: try values(graphProto.output, graphProto.n_output, tensorsOnly: true),
            initializers: initializers, nodes: nodes,
            valueInfo: try values(graphProto.value_info, graphProto.n_value_info),
            opsetImports: opsets, metadata: metadata, docString: text(graphProto.doc_string))
        if let defect = GraphVerifier.defects(in: graph).first {
            throw .invalidGraph(file: file, defect: defect)
        }
        return graph
    }

    /// LazyModelProto → Graph: as `decodeModel`, with each node and initializer unpacked from
    /// its encoding into a scratch arena (one per thread) just before it is decoded. Initializer
    /// bytes are viewed where the model's encoding holds them; anything else that would view a
    /// scratch message is copied. Any failure here sends the caller to `decodeModel`.
    func decodeLazyModel() throws(ONNXLoadError) -> Graph {
        guard let model = owner.lazyMessage?.pointee else { throw .missingGraph(file: file) }
        guard let graphProto = model.graph?.pointee else { throw .missingGraph(file: file) }
        let opsets = messages(model.opset_import, model.n_opset_import).map {
            OpsetImport(domain: normalizedDomain(text($0.pointee.domain)), version: $0.pointee.version)
        }
        guard opsets.contains(where: { $0.domain.isEmpty }) else { throw .missingOpset(file: file) }
        let metadata = ModelMetadata(
            irVersion: model.has_ir_version != 0 ? model.ir_version : 0,
            producerName: text(model.producer_name), producerVersion: text(model.producer_version),
            domain: text(model.domain), modelVersion: model.has_model_version != 0 ? model.model_version : 0,
            docString: text(model.doc_string),
            properties: entries(model.metadata_props, model.n_metadata_props).map { MetadataProperty(key: $0.key, value: $0.value) })

        var tensors = TensorDecoder(file: file, owner: owner, externalData: externalData)
        tensors.scratchMessages = true
        let malformed = ONNXLoadError.malformedProtobuf(file: file, offset: nil, detail: "a node or initializer does not decode")
        let nodeDecoder = NodeDecoder(file: file, tensors: tensors)
        let nodeList = UncheckedSendable(value: (decoder: nodeDecoder, base: graphProto.node, count: graphProto.n_node))
        let decodedNodes = BackgroundWork { () -> Result<[Node], ONNXLoadError> in
            let (decoder, base, count) = nodeList.value
            let scratch = ScratchArena()
            var nodes: [Node] = []
            nodes.reserveCapacity(count)
            do throws(ONNXLoadError) {
                for (index, encoded) in UnsafeBufferPointer(start: base, count: base == nil ? 0 : count).enumerated() {
                    guard let proto = scratch.node(encoded) else { throw malformed }
                    nodes.append(try decoder.decode(proto, index: index))
                }
            } catch {
                return .failure(error)
            }
            return .success(nodes)
        }
        func collectNodes() throws(ONNXLoadError) -> [Node] {
            do {
                return try decodedNodes.value().get()
            } catch let error as ONNXLoadError {
                throw error
            } catch {
                throw malformed
            }
        }
        var initializers = InitializerTable()
        initializers.reserveCapacity(graphProto.n_initializer)
        let shapes = ShapeCache()
        let scratch = ScratchArena()
        let encodings = UnsafeBufferPointer(start: graphProto.initializer, count: graphProto.initializer == nil ? 0 : graphProto.n_initializer)
        for encoded in encodings {
            let tensor: Tensor
            let name: String
            do throws(ONNXLoadError) {
                guard let proto = scratch.tensor(encoded) else { throw malformed }
                name = text(proto.pointee.name)
                tensor = try tensors.decode(proto, name: name, shapes: shapes, encoding: UnsafeRawBufferPointer(start: encoded.data, count: encoded.len))
            } catch {
                _ = try? decodedNodes.value()  // the node work reads the model: let it finish first
                throw error
            }
            guard initializers.insertNew(tensor, named: name) else {
                _ = try? decodedNodes.value()
                throw .invalidGraph(file: file, defect: .duplicateDefinition(value: name, definedBy: ["initializer", "initializer"]))
            }
        }
        let nodes = try collectNodes()
        let graph = Graph(
            name: text(graphProto.name),
            inputs: try values(graphProto.input, graphProto.n_input, tensorsOnly: true),
            outputs: try values(graphProto.output, graphProto.n_output, tensorsOnly: true),
            initializers: initializers, nodes: nodes,
            valueInfo: try values(graphProto.value_info, graphProto.n_value_info),
            opsetImports: opsets, metadata: metadata, docString: text(graphProto.doc_string))
        if let defect = GraphVerifier.defects(in: graph).first {
            throw .invalidGraph(file: file, defect: defect)
        }
        return graph
    }

    /// With `tensorsOnly` (graph inputs and outputs), a value of another type (sequence, map,
    /// optional, sparse tensor: a TypeProto whose only content is fields outside our subset) is
    /// refused: everything downstream holds tensors.
    private func values(_ base: UnsafeMutablePointer<UnsafeMutablePointer<Onnx__ValueInfoProto>?>?, _ count: Int,
                        tensorsOnly: Bool = false) throws(ONNXLoadError) -> [Value] {
        var result: [Value] = []
        result.reserveCapacity(count)
        for proto in messages(base, count) {
            if tensorsOnly, let type = proto.pointee.type?.pointee, type.value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE, type.base.n_unknown_fields > 0 {
                throw .nonTensorValue(file: file, name: text(proto.pointee.name))
            }
            result.append(try value(proto.pointee))
        }
        return result
    }

    private func value(_ proto: Onnx__ValueInfoProto) throws(ONNXLoadError) -> Value {
        let name = text(proto.name)
        // Only tensor types are described; sequence, map and optional types stay unknown.
        guard let tensorType = proto.type?.pointee.tensor_type?.pointee else { return Value(name: name) }
        let elementType = tensorType.has_elem_type != 0 ? ElementType(rawValue: tensorType.elem_type) : nil
        guard let shapeProto = tensorType.shape?.pointee else { return Value(name: name, elementType: elementType) }
        var shape: [ShapeDimension] = []
        for (index, dimension) in messages(shapeProto.dim, shapeProto.n_dim).enumerated() {
            switch dimension.pointee.value_case {
            case ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE:
                let size = dimension.pointee.dim_value
                guard size >= 0 else { throw .invalidDimension(file: file, name: name, dimension: index, value: size) }
                shape.append(.fixed(Int(size)))
            case ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM:
                let parameter = text(dimension.pointee.dim_param)
                shape.append(parameter.isEmpty ? .unknown : .symbolic(parameter))
            default:
                shape.append(.unknown)
            }
        }
        return Value(name: name, elementType: elementType, shape: shape)
    }
}
