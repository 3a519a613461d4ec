import Foundation
import GhostIR

/// The graph section's document → Graph (rules 5 and 6): tensor records checked against the data
/// section with overflow-checked arithmetic, attributes checked against their types.
struct GraphDocumentDecoder {
    let path: String
    let data: UnsafeRawBufferPointer
    let owner: MappedFile

    func decode(_ document: GraphDocument) throws(GWTFormatError) -> Graph {
        var claimed: [(range: Range<Int>, name: String)] = []
        var initializers = InitializerTable()
        for record in document.initializers {
            guard !initializers.contains(record.name) else {
                throw .invalidGraph(file: path, defect: .duplicateDefinition(value: record.name, definedBy: ["initializer", "initializer"]))
            }
            initializers[record.name] = try tensor(record, claimed: &claimed)
        }
        var attributeTensors: [Tensor] = []
        for record in document.attributeTensors { attributeTensors.append(try tensor(record, claimed: &claimed)) }

        var nodes: [Node] = []
        for record in document.nodes {
            var attributes: [Attribute] = []
            for attribute in record.attributes {
                attributes.append(Attribute(name: attribute.name, value: try value(attribute, node: record.name, tensors: attributeTensors)))
            }
            nodes.append(Node(name: record.name, opType: record.opType, domain: record.domain, inputs: record.inputs,
                              outputs: record.outputs, attributes: attributes, docString: record.docString, fusedFrom: record.fusedFrom))
        }
        return Graph(
            name: document.name, inputs: try document.inputs.map(value), outputs: try document.outputs.map(value),
            initializers: initializers, nodes: nodes, valueInfo: try document.valueInfo.map(value),
            opsetImports: document.opsets.map { OpsetImport(domain: $0.domain, version: $0.version) },
            metadata: ModelMetadata(
                irVersion: document.irVersion, producerName: document.producerName, producerVersion: document.producerVersion,
                domain: document.domain, modelVersion: document.modelVersion, docString: document.modelDocString,
                properties: document.metadataProps.map { MetadataProperty(key: $0.key, value: $0.value) }),
            docString: document.docString)
    }

    private func tensor(_ record: TensorRecord, claimed: inout [(range: Range<Int>, name: String)]) throws(GWTFormatError) -> Tensor {
        func fail(_ problem: String) -> GWTFormatError { .invalidTensor(file: path, tensor: record.name, problem: problem) }
        guard let type = DTypeName.byName[record.dtype] else { throw fail("dtype '\(record.dtype)' is not a .gwt tensor type") }
        var count: Int64 = 1
        for dimension in record.shape {
            guard dimension >= 0 else { throw fail("shape \(record.shape) has a negative dimension") }
            let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
            guard !overflow else { throw fail("shape \(record.shape) has more elements than fit in 64 bits") }
            count = product
        }
        let (length, overflow) = count.multipliedReportingOverflow(by: Int64(type.byteSize))
        guard !overflow, length == record.length else {
            throw fail("length \(record.length) does not match shape \(record.shape) of \(record.dtype)")
        }
        guard record.offset >= 0, record.offset % Int64(GWTLayout.alignment) == 0 else {
            throw fail("offset \(record.offset) is not a non-negative multiple of \(GWTLayout.alignment)")
        }
        let (end, endOverflow) = record.offset.addingReportingOverflow(record.length)
        guard !endOverflow, end <= Int64(data.count) else {
            throw fail("bytes \(record.offset)..<\(end) lie outside the \(data.count)-byte data section")
        }
        let range = Int(record.offset)..<Int(end)
        if let other = claimed.first(where: { $0.range.overlaps(range) }) {
            throw fail("its data overlaps tensor '\(other.name)'")
        }
        if !range.isEmpty { claimed.append((range, record.name)) }
        let bytes = range.isEmpty ? UnsafeRawBufferPointer(start: nil, count: 0) : UnsafeRawBufferPointer(rebasing: data[range])
        do {
            return try Tensor(elementType: type, shape: record.shape.map { Int($0) }, storage: TensorStorage(viewing: bytes, owner: owner))
        } catch {
            throw fail("\(error)")
        }
    }

    private func value(_ record: ValueRecord) throws(GWTFormatError) -> Value {
        var type: ElementType?
        if let name = record.dtype {
            guard let known = DTypeName.valueType(name) else {
                throw .invalidTensor(file: path, tensor: record.name, problem: "dtype '\(name)' is unknown")
            }
            type = known
        }
        var shape: [ShapeDimension]?
        if let dimensions = record.shape {
            var list: [ShapeDimension] = []
            for dimension in dimensions {
                switch dimension {
                case .fixed(let size):
                    guard size >= 0, size <= Int64(Int.max) else {
                        throw .invalidTensor(file: path, tensor: record.name, problem: "declared dimension \(size) is negative")
                    }
                    list.append(.fixed(Int(size)))
                case .symbolic(let name): list.append(.symbolic(name))
                case .unknown: list.append(.unknown)
                }
            }
            shape = list
        }
        return Value(name: record.name, elementType: type, shape: shape)
    }

    private func value(_ record: AttributeRecord, node: String, tensors: [Tensor]) throws(GWTFormatError) -> AttributeValue {
        func fail(_ problem: String) -> GWTFormatError { .invalidAttribute(file: path, node: node, attribute: record.name, problem: problem) }
        func decoded(_ texts: [String]) throws(GWTFormatError) -> [[UInt8]] {
            var result: [[UInt8]] = []
            for text in texts {
                guard let data = Data(base64Encoded: text) else { throw fail("'\(text.prefix(16))…' is not valid base64") }
                result.append([UInt8](data))
            }
            return result
        }
        func held(_ indices: [Int]) throws(GWTFormatError) -> [Tensor] {
            var result: [Tensor] = []
            for index in indices {
                guard tensors.indices.contains(index) else { throw fail("attribute tensor index \(index) is out of range") }
                result.append(tensors[index])
            }
            return result
        }
        switch record.payload {
        case .float(let value): return .float(value)
        case .int(let value): return .int(value)
        case .floats(let values): return .floats(values)
        case .ints(let values): return .ints(values)
        case .tensorIndices(let indices):
            let list = try held(indices)
            guard record.type == "tensors" else { return .tensor(list[0]) }
            return .tensors(list)
        case .base64(let texts):
            let payloads = try decoded(texts)
            switch record.type {
            case "string": return .string(payloads[0])
            case "strings": return .strings(payloads)
            case "graph": return .graph(EncodedSubgraph(bytes: payloads[0]))
            case "graphs": return .graphs(payloads.map(EncodedSubgraph.init))
            default:
                guard let kind = OpaqueAttributeKind(rawValue: record.type) else { throw fail("unknown type '\(record.type)'") }
                return .opaque(kind, payloads)
            }
        }
    }
}
