import Foundation
import GhostIR

/// Graph → the graph section's JSON document plus the tensors of the data section, laid out
/// 64-byte aligned: initializers in graph order, then attribute tensors in node order.
///
/// The writer streams the same text with `GraphSectionWriter` instead; these records are the
/// section field for field (what the reader decodes), and the tests hold the streamed text to
/// theirs, byte for byte.
struct GraphDocumentEncoder {
    private(set) var dataTensors: [Tensor] = []
    private var dataLength = 0

    /// The data section's length (no trailing padding).
    var dataSectionLength: Int { dataLength }

    mutating func encode(_ graph: Graph) -> GraphDocument {
        let initializers = graph.initializers.map { record(name: $0.name, tensor: $0.tensor) }
        var attributeTensors: [TensorRecord] = []
        var nodes: [NodeRecord] = []
        for node in graph.nodes {
            var attributes: [AttributeRecord] = []
            for attribute in node.attributes {
                // Attribute tensors (Constant values) go to the data section, referenced by index.
                var indices: [Int] = []
                for tensor in attribute.value.tensorsHeld {
                    attributeTensors.append(record(name: "\(node.name).\(attribute.name).\(attributeTensors.count)", tensor: tensor))
                    indices.append(attributeTensors.count - 1)
                }
                attributes.append(self.attribute(attribute, tensorIndices: indices))
            }
            nodes.append(NodeRecord(
                name: node.name, opType: node.opType, domain: node.domain, inputs: node.inputs, outputs: node.outputs,
                attributes: attributes, fusedFrom: node.fusedFrom, docString: node.docString))
        }
        let metadata = graph.metadata
        return GraphDocument(
            name: graph.name, docString: graph.docString, irVersion: metadata.irVersion,
            producerName: metadata.producerName, producerVersion: metadata.producerVersion, domain: metadata.domain,
            modelVersion: metadata.modelVersion, modelDocString: metadata.docString,
            metadataProps: metadata.properties.map { KeyValue(key: $0.key, value: $0.value) },
            opsets: graph.opsetImports.map { OpsetRecord(domain: $0.domain, version: $0.version) },
            inputs: graph.inputs.map(value), outputs: graph.outputs.map(value), valueInfo: graph.valueInfo.map(value),
            initializers: initializers, attributeTensors: attributeTensors, nodes: nodes)
    }

    private mutating func record(name: String, tensor: Tensor) -> TensorRecord {
        let offset = GWTLayout.aligned(dataLength)
        dataLength = offset + tensor.byteCount
        dataTensors.append(tensor)
        return TensorRecord(name: name, dtype: DTypeName.valueName(tensor.elementType), shape: tensor.shape.map(Int64.init),
                            offset: Int64(offset), length: Int64(tensor.byteCount))
    }

    private func value(_ value: Value) -> ValueRecord {
        ValueRecord(name: value.name, dtype: value.elementType.map(DTypeName.valueName), shape: value.shape?.map { dimension in
            switch dimension {
            case .fixed(let size): .fixed(Int64(size))
            case .symbolic(let name): .symbolic(name)
            case .unknown: .unknown
            }
        })
    }

    private func attribute(_ attribute: Attribute, tensorIndices: [Int]) -> AttributeRecord {
        func base64(_ bytes: [UInt8]) -> String { Data(bytes).base64EncodedString() }
        let (type, payload): (String, AttributeRecord.Payload) = switch attribute.value {
        case .float(let value): ("float", .float(value))
        case .int(let value): ("int", .int(value))
        case .string(let bytes): ("string", .base64([base64(bytes)]))
        case .floats(let values): ("floats", .floats(values))
        case .ints(let values): ("ints", .ints(values))
        case .strings(let values): ("strings", .base64(values.map(base64)))
        case .tensor: ("tensor", .tensorIndices(tensorIndices))
        case .tensors: ("tensors", .tensorIndices(tensorIndices))
        case .graph(let graph): ("graph", .base64([base64(graph.bytes)]))
        case .graphs(let graphs): ("graphs", .base64(graphs.map { base64($0.bytes) }))
        case .opaque(let kind, let payloads): (kind.rawValue, .base64(payloads.map(base64)))
        }
        return AttributeRecord(name: attribute.name, type: type, payload: payload)
    }
}

extension AttributeValue {
    /// The tensors an attribute holds, in order.
    var tensorsHeld: [Tensor] {
        switch self {
        case .tensor(let tensor): [tensor]
        case .tensors(let tensors): tensors
        default: []
        }
    }
}

extension JSONEncoder {
    /// The encoder every .gwt JSON section uses: sorted keys (determinism), snake_case keys,
    /// non-finite floats as the strings the spec names.
    static var gwt: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return encoder
    }
}

extension JSONDecoder {
    static var gwt: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return decoder
    }
}

// MARK: - JSON text (keys in sorted order, as the format asks; see JSONWriter)

extension GraphDocument {
    func json() -> [UInt8] {
        var writer = JSONWriter(reservingCapacity: 256 * (nodes.count + initializers.count) + 4096)
        write(to: &writer)
        return writer.bytes
    }

    func write(to writer: inout JSONWriter) {
        writer.object { json in
            json.key("attribute_tensors")
            json.array(attributeTensors) { $1.write(to: &$0) }
            json.field("doc_string", docString)
            json.field("domain", domain)
            json.key("initializers")
            json.array(initializers) { $1.write(to: &$0) }
            json.key("inputs")
            json.array(inputs) { $1.write(to: &$0) }
            json.field("ir_version", irVersion)
            json.key("metadata_props")
            json.array(metadataProps) { json, pair in
                json.object { json in
                    json.field("key", pair.key)
                    json.field("value", pair.value)
                }
            }
            json.field("model_doc_string", modelDocString)
            json.field("model_version", modelVersion)
            json.field("name", name)
            json.key("nodes")
            json.array(nodes) { $1.write(to: &$0) }
            json.key("opsets")
            json.array(opsets) { json, opset in
                json.object { json in
                    json.field("domain", opset.domain)
                    json.field("version", opset.version)
                }
            }
            json.key("outputs")
            json.array(outputs) { $1.write(to: &$0) }
            json.field("producer_name", producerName)
            json.field("producer_version", producerVersion)
            json.key("value_info")
            json.array(valueInfo) { $1.write(to: &$0) }
        }
    }
}

extension ValueRecord {
    func write(to writer: inout JSONWriter) {
        writer.object { json in
            if let dtype {
                json.field("dtype", dtype)
            }
            json.field("name", name)
            if let shape {
                json.key("shape")
                json.array(shape) { json, dimension in
                    switch dimension {
                    case .fixed(let size): json.integer(size)
                    case .symbolic(let symbol): json.string(symbol)
                    case .unknown: json.null()
                    }
                }
            }
        }
    }
}

extension TensorRecord {
    func write(to writer: inout JSONWriter) {
        writer.object { json in
            json.field("dtype", dtype)
            json.field("length", length)
            json.field("name", name)
            json.field("offset", offset)
            json.key("shape")
            json.array(shape) { $0.integer($1) }
        }
    }
}

extension NodeRecord {
    func write(to writer: inout JSONWriter) {
        writer.object { json in
            json.key("attributes")
            json.array(attributes) { $1.write(to: &$0) }
            json.field("doc_string", docString)
            json.field("domain", domain)
            json.key("fused_from")
            json.array(fusedFrom) { $0.string($1) }
            json.key("inputs")
            json.array(inputs) { $0.string($1) }
            json.field("name", name)
            json.field("op_type", opType)
            json.key("outputs")
            json.array(outputs) { $0.string($1) }
        }
    }
}

extension AttributeRecord {
    func write(to writer: inout JSONWriter) {
        writer.object { json in
            json.field("name", name)
            json.field("type", type)
            json.key("value")
            switch payload {
            case .float(let value): json.float(value)
            case .int(let value): json.integer(value)
            case .floats(let values): json.array(values) { $0.float($1) }
            case .ints(let values): json.array(values) { $0.integer($1) }
            case .tensorIndices(let indices):
                if type == "tensor" { json.integer(indices.first ?? 0) } else { json.array(indices) { $0.integer($1) } }
            case .base64(let texts):
                if Self.singleBase64Types.contains(type) { json.string(texts.first ?? "") } else { json.array(texts) { $0.string($1) } }
            }
        }
    }
}

extension GWTMetadata {
    func json() -> [UInt8] {
        var json = JSONWriter()
        json.object { json in
            json.field("format", format)
            json.key("passes")
            json.array(passes) { json, pass in
                json.object { json in
                    json.field("name", pass.name)
                    json.field("rewrites", pass.rewrites)
                }
            }
            json.field("source_file", sourceFile)
            json.field("source_sha256", sourceSha256)
            json.field("tool", tool)
        }
        return json.bytes
    }
}
