import Foundation
import GhostIR

/// Small graphs built in Swift for loader and writer tests.
enum TestGraphs {
    /// x → Conv(W,B) → BatchNormalization → Relu → y, with every kind of attribute on a node.
    static func convBatchNorm() throws -> Graph {
        var initializers = InitializerTable()
        initializers["W"] = try Tensor(float32: (0..<54).map { Float($0) / 10 - 2 }, shape: [2, 3, 3, 3])
        initializers["B"] = try Tensor(float32: [0.5, -0.25], shape: [2])
        for (name, values) in [("gamma", [1.5, 0.75]), ("beta", [0.1, -0.2]), ("mean", [0.3, 0.0]), ("var", [1.2, 0.8])] as [(String, [Float])] {
            initializers[name] = try Tensor(float32: values, shape: [2])
        }
        initializers["shape"] = try Tensor(int64: [1, -1], shape: [2])
        let everyAttribute = Node(
            name: "Annotated", opType: "Custom", domain: "com.example", inputs: ["r", ""], outputs: ["y", ""],
            attributes: [
                Attribute(name: "f", value: .float(0.25)),
                Attribute(name: "i", value: .int(-7)),
                Attribute(name: "s", value: .string(Array("SAME_UPPER".utf8))),
                Attribute(name: "t", value: .tensor(try Tensor(float64: [1, 2, 3], shape: [3]))),
                Attribute(name: "g", value: .graph(EncodedSubgraph(bytes: [0x12, 0x03, 0x73, 0x75, 0x62]))),
                Attribute(name: "fs", value: .floats([1, 2.5])),
                Attribute(name: "is", value: .ints([3, 4, 5])),
                Attribute(name: "ss", value: .strings([Array("a".utf8), []])),
                Attribute(name: "ts", value: .tensors([try Tensor(int64: [9], shape: [])])),
                Attribute(name: "gs", value: .graphs([EncodedSubgraph(bytes: [0x12, 0x01, 0x61])])),
                Attribute(name: "tp", value: .opaque(.typeProto, [[0x0A, 0x02, 0x08, 0x01]])),
            ], docString: "carries one attribute of each type")
        return Graph(
            name: "conv_bn",
            inputs: [Value(name: "x", elementType: .float32, shape: [.symbolic("N"), .fixed(3), .fixed(8), .unknown])],
            outputs: [Value(name: "y", elementType: .float32, shape: nil)],
            initializers: initializers,
            nodes: [
                Node(name: "Conv_0", opType: "Conv", inputs: ["x", "W", "B"], outputs: ["c"],
                     attributes: [Attribute(name: "pads", value: .ints([1, 1, 1, 1])),
                                  Attribute(name: "kernel_shape", value: .ints([3, 3]))]),
                Node(name: "BN_1", opType: "BatchNormalization", inputs: ["c", "gamma", "beta", "mean", "var"], outputs: ["b"],
                     attributes: [Attribute(name: "epsilon", value: .float(1e-3))]),
                Node(name: "Relu_2", opType: "Relu", inputs: ["b"], outputs: ["r"]),
                everyAttribute,
            ],
            valueInfo: [Value(name: "c", elementType: .float32, shape: [.fixed(1), .fixed(2), .fixed(8), .fixed(8)])],
            opsetImports: [OpsetImport(domain: "", version: 17), OpsetImport(domain: "com.example", version: 1)],
            metadata: ModelMetadata(irVersion: 8, producerName: "ghost-convert-tests", producerVersion: "1",
                                    domain: "org.test", modelVersion: 3, docString: "test model",
                                    properties: [MetadataProperty(key: "k", value: "v")]),
            docString: "graph doc")
    }
}
