import CONNXProto
import CProtobufC
import GhostIR

/// NodeProto and AttributeProto → IR nodes.
struct NodeDecoder {
    let file: String
    let tensors: TensorDecoder

    func decode(_ proto: UnsafeMutablePointer<Onnx__NodeProto>, index: Int) throws(ONNXLoadError) -> Node {
        let nodeProto = proto.pointee
        let opType = text(nodeProto.op_type)
        var node = Node(
            name: text(nodeProto.name), opType: opType, domain: normalizedDomain(text(nodeProto.domain)),
            inputs: texts(nodeProto.input, nodeProto.n_input),
            outputs: texts(nodeProto.output, nodeProto.n_output),
            docString: text(nodeProto.doc_string))
        let displayName = node.displayName(index: index)
        guard !opType.isEmpty else { throw .invalidNode(file: file, node: displayName, problem: "op_type is missing") }
        if nodeProto.n_attribute > 0, let attributes = nodeProto.attribute {
            // Built at its final size and assigned once: appending to the node's array grew it
            // 0 → 1 → 2, an allocation and a copy more per Conv at 200k nodes.
            var decoded: [Attribute] = []
            decoded.reserveCapacity(nodeProto.n_attribute)
            for slot in UnsafeBufferPointer(start: attributes, count: nodeProto.n_attribute) {
                guard let attribute = slot else { continue }
                let name = text(attribute.pointee.name)
                guard !name.isEmpty else {
                    throw .invalidAttribute(file: file, node: displayName, attribute: "", problem: "an attribute has no name")
                }
                guard !decoded.contains(where: { $0.name == name }) else {
                    throw .invalidAttribute(file: file, node: displayName, attribute: name, problem: "the attribute appears twice")
                }
                let value = try decodeValue(attribute.pointee, node: displayName, name: name)
                decoded.append(Attribute(name: name, value: value, docString: text(attribute.pointee.doc_string)))
            }
            node.attributes = decoded
        }
        if node.isONNX("Constant") {
            let valueAttributes = ["value", "value_float", "value_floats", "value_int", "value_ints",
                                   "value_string", "value_strings", "sparse_value"]
            guard node.attributes.contains(where: { valueAttributes.contains($0.name) }) else {
                throw .invalidAttribute(file: file, node: displayName, attribute: "value",
                                        problem: "a Constant node needs one of \(valueAttributes.joined(separator: ", "))")
            }
        }
        return node
    }

    private func decodeValue(_ proto: Onnx__AttributeProto, node: String, name: String) throws(ONNXLoadError) -> AttributeValue {
        let type = proto.has_type != 0 ? proto.type : inferredType(proto)
        func missing(_ field: String, _ typeName: String) -> ONNXLoadError {
            .invalidAttribute(file: file, node: node, attribute: name,
                              problem: "type is \(typeName) but the '\(field)' field is not set")
        }
        func tensor(_ pointer: UnsafeMutablePointer<Onnx__TensorProto>) throws(ONNXLoadError) -> Tensor {
            try tensors.decode(pointer, fallbackName: "\(node).\(name)")
        }
        switch type {
        case 1:
            guard proto.has_f != 0 else { throw missing("f", "FLOAT") }
            return .float(proto.f)
        case 2:
            guard proto.has_i != 0 else { throw missing("i", "INT") }
            return .int(proto.i)
        case 3:
            guard proto.has_s != 0 else { throw missing("s", "STRING") }
            return .string(bytes(proto.s))
        case 4:
            guard let pointer = proto.t else { throw missing("t", "TENSOR") }
            return .tensor(try tensor(pointer))
        case 5:
            guard proto.has_g != 0 else { throw missing("g", "GRAPH") }
            return .graph(EncodedSubgraph(bytes: bytes(proto.g)))
        case 6:
            return .floats(scalars(proto.floats, proto.n_floats))
        case 7:
            return .ints(scalars(proto.ints, proto.n_ints))
        case 8:
            return .strings(scalars(proto.strings, proto.n_strings).map(bytes))
        case 9:
            var list: [Tensor] = []
            for pointer in messages(proto.tensors, proto.n_tensors) { list.append(try tensor(pointer)) }
            return .tensors(list)
        case 10:
            return .graphs(scalars(proto.graphs, proto.n_graphs).map { EncodedSubgraph(bytes: bytes($0)) })
        case 11:
            guard proto.has_sparse_tensor != 0 else { throw missing("sparse_tensor", "SPARSE_TENSOR") }
            return .opaque(.sparseTensor, [bytes(proto.sparse_tensor)])
        case 12:
            return .opaque(.sparseTensors, scalars(proto.sparse_tensors, proto.n_sparse_tensors).map(bytes))
        case 13:
            guard proto.has_tp != 0 else { throw missing("tp", "TYPE_PROTO") }
            return .opaque(.typeProto, [bytes(proto.tp)])
        case 14:
            return .opaque(.typeProtos, scalars(proto.type_protos, proto.n_type_protos).map(bytes))
        case 0:
            throw .invalidAttribute(file: file, node: node, attribute: name, problem: "the attribute has no type and no value")
        default:
            throw .invalidAttribute(file: file, node: node, attribute: name, problem: "unknown attribute type code \(type)")
        }
    }

    /// Files from IR version 1–2 may omit `type`; infer it from the one value field that is set.
    private func inferredType(_ proto: Onnx__AttributeProto) -> Int32 {
        if proto.has_f != 0 { return 1 }
        if proto.has_i != 0 { return 2 }
        if proto.has_s != 0 { return 3 }
        if proto.t != nil { return 4 }
        if proto.has_g != 0 { return 5 }
        if proto.n_floats > 0 { return 6 }
        if proto.n_ints > 0 { return 7 }
        if proto.n_strings > 0 { return 8 }
        if proto.n_tensors > 0 { return 9 }
        if proto.n_graphs > 0 { return 10 }
        return 0
    }
}

/// "ai.onnx" and "" both name the default operator set; the IR always uses "".
func normalizedDomain(_ domain: String) -> String {
    domain == "ai.onnx" ? "" : domain
}
