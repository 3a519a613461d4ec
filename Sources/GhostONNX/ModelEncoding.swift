import CONNXProto
import CProtobufC
import GhostIR

/// Builds the protobuf-c message tree for a Graph in an arena. Strings and small arrays are
/// copied into the arena; tensor bytes are referenced where they are.
struct ModelEncoder {
    let arena: CArena
    let layout: ExternalLayout?

    func model(_ graph: Graph) -> UnsafeMutablePointer<Onnx__ModelProto> {
        let model = arena.allocate(Onnx__ModelProto.self)
        onnx__model_proto__init(model)
        let metadata = graph.metadata
        model.pointee.has_ir_version = 1
        model.pointee.ir_version = metadata.irVersion
        model.pointee.producer_name = arena.string(metadata.producerName)
        model.pointee.producer_version = arena.string(metadata.producerVersion)
        model.pointee.domain = arena.string(metadata.domain)
        if metadata.modelVersion != 0 {
            model.pointee.has_model_version = 1
            model.pointee.model_version = metadata.modelVersion
        }
        model.pointee.doc_string = arena.string(metadata.docString)
        (model.pointee.n_opset_import, model.pointee.opset_import) = list(graph.opsetImports) { opset in
            let message = arena.allocate(Onnx__OperatorSetIdProto.self)
            onnx__operator_set_id_proto__init(message)
            message.pointee.domain = arena.string(opset.domain)
            message.pointee.has_version = 1
            message.pointee.version = opset.version
            return message
        }
        (model.pointee.n_metadata_props, model.pointee.metadata_props) = list(metadata.properties) { entry($0.key, $0.value) }
        model.pointee.graph = self.graph(graph)
        return model
    }

    private func graph(_ graph: Graph) -> UnsafeMutablePointer<Onnx__GraphProto> {
        let message = arena.allocate(Onnx__GraphProto.self)
        onnx__graph_proto__init(message)
        message.pointee.name = arena.string(graph.name)
        message.pointee.doc_string = arena.string(graph.docString)
        (message.pointee.n_node, message.pointee.node) = list(graph.nodes, node)
        (message.pointee.n_initializer, message.pointee.initializer) = list(graph.initializers, count: graph.initializers.count) {
            tensor($0.tensor, name: $0.name, placement: layout?.placements[$0.name])
        }
        (message.pointee.n_input, message.pointee.input) = list(graph.inputs, value)
        (message.pointee.n_output, message.pointee.output) = list(graph.outputs, value)
        (message.pointee.n_value_info, message.pointee.value_info) = list(graph.valueInfo, value)
        return message
    }

    private func node(_ node: Node) -> UnsafeMutablePointer<Onnx__NodeProto> {
        let message = arena.allocate(Onnx__NodeProto.self)
        onnx__node_proto__init(message)
        message.pointee.name = arena.string(node.name)
        message.pointee.op_type = arena.string(node.opType)
        message.pointee.domain = arena.string(node.domain)
        message.pointee.doc_string = arena.string(node.docString)
        (message.pointee.n_input, message.pointee.input) = arena.strings(node.inputs)
        (message.pointee.n_output, message.pointee.output) = arena.strings(node.outputs)
        (message.pointee.n_attribute, message.pointee.attribute) = list(node.attributes, attribute)
        return message
    }

    private func attribute(_ attribute: Attribute) -> UnsafeMutablePointer<Onnx__AttributeProto> {
        let message = arena.allocate(Onnx__AttributeProto.self)
        onnx__attribute_proto__init(message)
        message.pointee.name = arena.string(attribute.name)
        message.pointee.doc_string = arena.string(attribute.docString)
        message.pointee.has_type = 1
        switch attribute.value {
        case .float(let value):
            message.pointee.type = 1
            message.pointee.has_f = 1
            message.pointee.f = value
        case .int(let value):
            message.pointee.type = 2
            message.pointee.has_i = 1
            message.pointee.i = value
        case .string(let value):
            message.pointee.type = 3
            message.pointee.has_s = 1
            message.pointee.s = arena.binary(value)
        case .tensor(let value):
            message.pointee.type = 4
            message.pointee.t = tensor(value, name: "", placement: nil)
        case .graph(let value):
            message.pointee.type = 5
            message.pointee.has_g = 1
            message.pointee.g = arena.binary(value.bytes)
        case .floats(let values):
            message.pointee.type = 6
            (message.pointee.n_floats, message.pointee.floats) = arena.array(values)
        case .ints(let values):
            message.pointee.type = 7
            (message.pointee.n_ints, message.pointee.ints) = arena.array(values)
        case .strings(let values):
            message.pointee.type = 8
            (message.pointee.n_strings, message.pointee.strings) = arena.array(values.map(arena.binary))
        case .tensors(let values):
            message.pointee.type = 9
            (message.pointee.n_tensors, message.pointee.tensors) = list(values) { tensor($0, name: "", placement: nil) }
        case .graphs(let values):
            message.pointee.type = 10
            (message.pointee.n_graphs, message.pointee.graphs) = arena.array(values.map { arena.binary($0.bytes) })
        case .opaque(let kind, let payloads):
            let encoded = payloads.map(arena.binary)
            switch kind {
            case .sparseTensor:
                message.pointee.type = 11
                message.pointee.has_sparse_tensor = 1
                message.pointee.sparse_tensor = encoded.first ?? ProtobufCBinaryData(len: 0, data: nil)
            case .sparseTensors:
                message.pointee.type = 12
                (message.pointee.n_sparse_tensors, message.pointee.sparse_tensors) = arena.array(encoded)
            case .typeProto:
                message.pointee.type = 13
                message.pointee.has_tp = 1
                message.pointee.tp = encoded.first ?? ProtobufCBinaryData(len: 0, data: nil)
            case .typeProtos:
                message.pointee.type = 14
                (message.pointee.n_type_protos, message.pointee.type_protos) = arena.array(encoded)
            }
        }
        return message
    }

    private func tensor(_ tensor: Tensor, name: String, placement: ExternalLayout.Placement?) -> UnsafeMutablePointer<Onnx__TensorProto> {
        let message = arena.allocate(Onnx__TensorProto.self)
        onnx__tensor_proto__init(message)
        message.pointee.name = arena.string(name)
        message.pointee.has_data_type = 1
        message.pointee.data_type = tensor.elementType.rawValue
        (message.pointee.n_dims, message.pointee.dims) = arena.int64s(tensor.shape)
        if let placement, let layout {
            message.pointee.has_data_location = 1
            message.pointee.data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL
            (message.pointee.n_external_data, message.pointee.external_data) = list([
                ("location", layout.location), ("offset", String(placement.offset)), ("length", String(placement.length)),
            ]) { entry($0.0, $0.1) }
        } else {
            message.pointee.has_raw_data = 1
            message.pointee.raw_data = binaryView(tensor.storage.bytes)
        }
        return message
    }

    private func value(_ value: Value) -> UnsafeMutablePointer<Onnx__ValueInfoProto> {
        let message = arena.allocate(Onnx__ValueInfoProto.self)
        onnx__value_info_proto__init(message)
        message.pointee.name = arena.string(value.name)
        guard value.elementType != nil || value.shape != nil else { return message }
        let type = arena.allocate(Onnx__TypeProto.self)
        onnx__type_proto__init(type)
        let tensorType = arena.allocate(Onnx__TypeProto__Tensor.self)
        onnx__type_proto__tensor__init(tensorType)
        if let elementType = value.elementType {
            tensorType.pointee.has_elem_type = 1
            tensorType.pointee.elem_type = elementType.rawValue
        }
        if let dimensions = value.shape {
            let shape = arena.allocate(Onnx__TensorShapeProto.self)
            onnx__tensor_shape_proto__init(shape)
            (shape.pointee.n_dim, shape.pointee.dim) = list(dimensions) { dimension in
                let message = arena.allocate(Onnx__TensorShapeProto__Dimension.self)
                onnx__tensor_shape_proto__dimension__init(message)
                switch dimension {
                case .fixed(let size):
                    message.pointee.value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE
                    message.pointee.dim_value = Int64(size)
                case .symbolic(let name):
                    message.pointee.value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM
                    message.pointee.dim_param = arena.string(name)
                case .unknown:
                    break
                }
                return message
            }
            tensorType.pointee.shape = shape
        }
        type.pointee.value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE
        type.pointee.tensor_type = tensorType
        message.pointee.type = type
        return message
    }

    private func entry(_ key: String, _ value: String) -> UnsafeMutablePointer<Onnx__StringStringEntryProto> {
        let message = arena.allocate(Onnx__StringStringEntryProto.self)
        onnx__string_string_entry_proto__init(message)
        message.pointee.key = arena.string(key)
        message.pointee.value = arena.string(value)
        return message
    }

    /// A repeated message field built from `items`, straight into the arena.
    private func list<Item, Message>(_ items: [Item], _ build: (Item) -> UnsafeMutablePointer<Message>) -> (Int, UnsafeMutablePointer<UnsafeMutablePointer<Message>?>?) {
        list(items, count: items.count, build)
    }

    /// `count` is the number of elements `items` has (a sequence cannot say so itself).
    private func list<Items: Sequence, Message>(_ items: Items, count: Int, _ build: (Items.Element) -> UnsafeMutablePointer<Message>) -> (Int, UnsafeMutablePointer<UnsafeMutablePointer<Message>?>?) {
        guard count > 0 else { return (0, nil) }
        let pointers = arena.allocate(UnsafeMutablePointer<Message>?.self, count: count)
        var filled = 0
        for item in items {
            guard filled < count else { break }
            pointers[filled] = build(item)
            filled += 1
        }
        return (filled, filled > 0 ? pointers : nil)
    }
}
