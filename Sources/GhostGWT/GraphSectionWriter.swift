import Foundation
import GhostIR

/// Where each tensor goes in the data section: initializers in graph order, then attribute
/// tensors (Constant values) in node order, each at a multiple of 64 from the section's start.
struct DataSectionLayout: Sendable {
    private(set) var tensors: [Tensor] = []
    private(set) var offsets: [Int] = []
    /// The section's length (no trailing padding).
    private(set) var length = 0
    /// How many of `tensors` are initializers (the rest are attribute tensors).
    let initializerCount: Int

    init(_ graph: Graph) {
        initializerCount = graph.initializers.count
        tensors.reserveCapacity(initializerCount)
        offsets.reserveCapacity(initializerCount)
        for entry in graph.initializers { place(entry.tensor) }
        for node in graph.nodes where !node.attributes.isEmpty {
            for attribute in node.attributes {
                switch attribute.value {
                case .tensor(let tensor): place(tensor)
                case .tensors(let list): for tensor in list { place(tensor) }
                default: break
                }
            }
        }
    }

    private mutating func place(_ tensor: Tensor) {
        let offset = GWTLayout.aligned(length)
        offsets.append(offset)
        tensors.append(tensor)
        length = offset + tensor.byteCount
    }
}

/// Writes the graph section's JSON straight from the graph, in the key order and spelling of
/// `GraphDocument.json()` (sorted keys, docs/gwt-format.md section 2), without building the
/// intermediate records: at 200k nodes the records and their release cost as much as the text.
/// The text goes to `sink` in pieces of about `pieceSize` bytes (between elements), so the
/// section never exists whole in memory.
struct GraphSectionWriter {
    let graph: Graph
    let layout: DataSectionLayout
    static let pieceSize = 1 << 20

    func write<E: Error>(to sink: (UnsafeRawBufferPointer) throws(E) -> Void) throws(E) {
        var json = JSONWriter(reservingCapacity: Self.pieceSize + 64 * 1024)
        let metadata = graph.metadata
        func drainIfFull(_ json: inout JSONWriter) throws(E) {
            if json.bytes.count >= Self.pieceSize { try json.drain(into: sink) }
        }
        try json.object { (json: inout JSONWriter) throws(E) in
            json.key("attribute_tensors")
            try json.array { (json: inout JSONWriter) throws(E) in
                var index = layout.initializerCount
                for node in graph.nodes where !node.attributes.isEmpty {
                    for attribute in node.attributes {
                        let held: [Tensor]
                        switch attribute.value {
                        case .tensor(let tensor): held = [tensor]
                        case .tensors(let list): held = list
                        default: continue
                        }
                        for _ in held {
                            let number = index - layout.initializerCount
                            tensorRecord(&json, name: "\(node.name).\(attribute.name).\(number)", index: index)
                            index += 1
                        }
                        try drainIfFull(&json)
                    }
                }
            }
            json.field("doc_string", graph.docString)
            json.field("domain", metadata.domain)
            json.key("initializers")
            try json.array { (json: inout JSONWriter) throws(E) in
                var index = 0
                for entry in graph.initializers {
                    tensorRecord(&json, name: entry.name, index: index)
                    index += 1
                    try drainIfFull(&json)
                }
            }
            json.key("inputs")
            json.array(graph.inputs) { valueRecord(&$0, $1) }
            json.field("ir_version", metadata.irVersion)
            json.key("metadata_props")
            json.array(metadata.properties) { json, property in
                json.object { json in
                    json.field("key", property.key)
                    json.field("value", property.value)
                }
            }
            json.field("model_doc_string", metadata.docString)
            json.field("model_version", metadata.modelVersion)
            json.field("name", graph.name)
            json.key("nodes")
            try json.array { (json: inout JSONWriter) throws(E) in
                var attributeTensor = 0
                for node in graph.nodes {
                    nodeRecord(&json, node, firstTensor: &attributeTensor)
                    try drainIfFull(&json)
                }
            }
            json.key("opsets")
            json.array(graph.opsetImports) { json, opset in
                json.object { json in
                    json.field("domain", opset.domain)
                    json.field("version", opset.version)
                }
            }
            json.key("outputs")
            json.array(graph.outputs) { valueRecord(&$0, $1) }
            json.field("producer_name", metadata.producerName)
            json.field("producer_version", metadata.producerVersion)
            json.key("value_info")
            try json.array { (json: inout JSONWriter) throws(E) in
                for value in graph.valueInfo {
                    valueRecord(&json, value)
                    try drainIfFull(&json)
                }
            }
        }
        try json.drain(into: sink)
    }

    private func tensorRecord(_ json: inout JSONWriter, name: String, index: Int) {
        let tensor = layout.tensors[index]
        json.object { json in
            json.field("dtype", DTypeName.valueName(tensor.elementType))
            json.field("length", tensor.byteCount)
            json.field("name", name)
            json.field("offset", layout.offsets[index])
            json.key("shape")
            json.array(tensor.shape) { $0.integer($1) }
        }
    }

    private func valueRecord(_ json: inout JSONWriter, _ value: Value) {
        json.object { json in
            if let type = value.elementType {
                json.field("dtype", DTypeName.valueName(type))
            }
            json.field("name", value.name)
            if let shape = value.shape {
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

    /// `firstTensor` is the index, among attribute tensors, of this node's first one; it is
    /// advanced past the node's tensors.
    private func nodeRecord(_ json: inout JSONWriter, _ node: Node, firstTensor: inout Int) {
        json.object { json in
            json.key("attributes")
            json.array(node.attributes) { json, attribute in
                attributeRecord(&json, attribute, firstTensor: &firstTensor)
            }
            json.field("doc_string", node.docString)
            json.field("domain", node.domain)
            json.key("fused_from")
            json.array(node.fusedFrom) { $0.string($1) }
            json.key("inputs")
            json.array(node.inputs) { $0.string($1) }
            json.field("name", node.name)
            json.field("op_type", node.opType)
            json.key("outputs")
            json.array(node.outputs) { $0.string($1) }
        }
    }

    /// An attribute as `AttributeRecord` spells it: the type name decides the value's JSON type.
    private func attributeRecord(_ json: inout JSONWriter, _ attribute: Attribute, firstTensor: inout Int) {
        func base64(_ bytes: [UInt8]) -> String { Data(bytes).base64EncodedString() }
        func texts(_ json: inout JSONWriter, _ type: String, _ payloads: [[UInt8]]) {
            json.field("type", type)
            json.key("value")
            if AttributeRecord.singleBase64Types.contains(type) {
                json.string(payloads.first.map(base64) ?? "")
            } else {
                json.array(payloads) { $0.string(base64($1)) }
            }
        }
        json.object { json in
            json.field("name", attribute.name)
            switch attribute.value {
            case .float(let value):
                json.field("type", "float")
                json.key("value")
                json.float(value)
            case .int(let value):
                json.field("type", "int")
                json.key("value")
                json.integer(value)
            case .floats(let values):
                json.field("type", "floats")
                json.key("value")
                json.array(values) { $0.float($1) }
            case .ints(let values):
                json.field("type", "ints")
                json.key("value")
                json.array(values) { $0.integer($1) }
            case .tensor:
                json.field("type", "tensor")
                json.key("value")
                json.integer(firstTensor)
                firstTensor += 1
            case .tensors(let list):
                json.field("type", "tensors")
                json.key("value")
                let first = firstTensor
                json.array(first..<first + list.count) { $0.integer($1) }
                firstTensor += list.count
            case .string(let bytes): texts(&json, "string", [bytes])
            case .strings(let values): texts(&json, "strings", values)
            case .graph(let graph): texts(&json, "graph", [graph.bytes])
            case .graphs(let graphs): texts(&json, "graphs", graphs.map(\.bytes))
            case .opaque(let kind, let payloads): texts(&json, kind.rawValue, payloads)
            }
        }
    }
}
