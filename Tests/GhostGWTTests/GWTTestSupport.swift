import Foundation
@testable import GhostGWT
import GhostIR

enum GWTFixtures {
    /// A small fused-looking graph with every attribute kind and a Constant holding a tensor.
    static func graph() throws -> Graph {
        var initializers = InitializerTable()
        initializers["conv.weight"] = try Tensor(float32: (0..<72).map { Float($0) * 0.01 - 0.3 }, shape: [8, 1, 3, 3])
        initializers["conv.bias"] = try Tensor(float32: (0..<8).map { Float($0) }, shape: [8])
        initializers["steps"] = try Tensor(int64: [1, -2, 3], shape: [3])
        initializers["scalar"] = try Tensor(float64: [2.5], shape: [])
        initializers["empty"] = try Tensor(float32: [], shape: [0, 4])
        initializers["cond"] = try Tensor(elementType: .bool, shape: [], storage: TensorStorage(values: [UInt8(1)]))
        return Graph(
            name: "fused",
            inputs: [Value(name: "x", elementType: .float32, shape: [.symbolic("batch"), .fixed(8), .fixed(16), .unknown])],
            outputs: [Value(name: "y", elementType: .float32, shape: nil)],
            initializers: initializers,
            nodes: [
                Node(name: "conv", opType: "Conv", inputs: ["x", "conv.weight", "conv.bias"], outputs: ["c"],
                     attributes: [Attribute(name: "group", value: .int(8)), Attribute(name: "pads", value: .ints([1, 1, 1, 1])),
                                  Attribute(name: "alpha", value: .float(.nan)), Attribute(name: "beta", value: .floats([0.1, -.infinity])),
                                  Attribute(name: "mode", value: .string(Array("SAME_UPPER".utf8))),
                                  Attribute(name: "names", value: .strings([[0, 255], []]))],
                     fusedFrom: ["cheap.conv", "cheap.bn", "fusion_bn", "Add_3"]),
                Node(name: "k", opType: "Constant", inputs: [], outputs: ["k.out"],
                     attributes: [Attribute(name: "value", value: .tensor(try Tensor(float32: [3, 4], shape: [2])))]),
                Node(name: "sub", opType: "If", inputs: ["cond"], outputs: ["branch"],
                     attributes: [Attribute(name: "then_branch", value: .graph(EncodedSubgraph(bytes: [0x12, 0x01, 0x74]))),
                                  Attribute(name: "list", value: .tensors([try Tensor(int64: [5], shape: [1]), try Tensor(float32: [1], shape: [])])),
                                  Attribute(name: "tp", value: .opaque(.typeProtos, [[1, 2], [3]]))]),
                Node(name: "add", opType: "Add", inputs: ["c", "k.out"], outputs: ["y"], docString: "doc"),
            ],
            valueInfo: [Value(name: "c", elementType: .float32)],
            opsetImports: [OpsetImport(domain: "", version: 17)],
            metadata: ModelMetadata(irVersion: 9, producerName: "pytorch", producerVersion: "2.13.0", modelVersion: 2,
                                    properties: [MetadataProperty(key: "a", value: "b")]))
    }

    static let metadata = GWTMetadata(tool: "ghost-convert test", sourceSha256: String(repeating: "ab", count: 32),
                                      sourceFile: "model.onnx", passes: [.init(name: "merge-parallel-convs", rewrites: 3)])
}

/// Edits a written .gwt file's bytes and, optionally, repairs every checksum afterwards so a
/// test can reach the validation rules behind them.
struct GWTFileSurgery {
    var bytes: [UInt8]

    init(path: String) throws { bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) }

    func u32(_ offset: Int) -> UInt32 { bytes[offset..<offset + 4].reversed().reduce(0) { $0 << 8 | UInt32($1) } }
    func u64(_ offset: Int) -> UInt64 { bytes[offset..<offset + 8].reversed().reduce(0) { $0 << 8 | UInt64($1) } }

    mutating func set<T: FixedWidthInteger>(_ value: T, at offset: Int) {
        withUnsafeBytes(of: value.littleEndian) { bytes.replaceSubrange(offset..<offset + MemoryLayout<T>.size, with: $0) }
    }

    /// Section `index`'s (offset, length) from the table.
    func section(_ index: Int) -> (offset: Int, length: Int) {
        let entry = 64 + 32 * index
        return (Int(truncatingIfNeeded: u64(entry + 8)), Int(truncatingIfNeeded: u64(entry + 16)))
    }

    /// Replaces the JSON of section `index` (metadata 0, graph 1) with `text`, moving nothing else:
    /// the new text must not be longer than the space up to the next section.
    mutating func replaceJSON(section index: Int, with transform: (String) -> String) {
        let (offset, length) = section(index)
        let text = transform(String(decoding: bytes[offset..<offset + length], as: UTF8.self))
        let encoded = Array(text.utf8)
        let limit = section(index + 1).offset - offset
        precondition(encoded.count <= limit, "edited JSON no longer fits")
        bytes.replaceSubrange(offset..<offset + limit, with: encoded + [UInt8](repeating: 0x20, count: limit - encoded.count))
        set(UInt64(limit), at: 64 + 32 * index + 16)
    }

    mutating func repairChecksums() {
        let count = Int(u32(12))
        for index in 0..<count {
            let (offset, length) = section(index)
            guard offset >= 0, length >= 0, offset <= bytes.count - length else { continue }  // damaged on purpose
            set(GWTLayout.crc32(Array(bytes[offset..<offset + length])), at: 64 + 32 * index + 24)
        }
        set(GWTLayout.crc32(Array(bytes[64..<64 + 32 * count])), at: 32)
        set(GWTLayout.crc32(Array(bytes[0..<36])), at: 36)
    }

    func write(to path: String) throws { try Data(bytes).write(to: URL(fileURLWithPath: path)) }
}
