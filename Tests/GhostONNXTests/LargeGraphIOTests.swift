import Foundation
import GhostIR
import TestSupport
@testable import GhostONNX
import Testing

/// A chain of `units` Conv → Relu with 2×2×3×3 weights (one shape shared by all), and one
/// 2 MiB weight in the middle: its encoding spans several of the writer's 1 MiB chunks, and the
/// large tensor takes the path that bypasses them.
private func longChain(units: Int) throws -> Graph {
    var initializers = InitializerTable()
    var nodes: [Node] = []
    var value = "x"
    for unit in 0..<units {
        let count = unit == units / 2 ? 1 << 19 : 36
        let shape = unit == units / 2 ? [1 << 17, 2, 1, 2] : [2, 2, 3, 3]
        initializers["w\(unit)"] = try Tensor(float32: (0..<count).map { Float(($0 + unit) % 97) / 8 }, shape: shape)
        initializers["b\(unit)"] = try Tensor(float32: [Float(unit), -1], shape: [2])
        nodes.append(Node(name: "conv\(unit)", opType: "Conv", inputs: [value, "w\(unit)", "b\(unit)"], outputs: ["c\(unit)"],
                          attributes: [Attribute(name: "pads", value: .ints([1, 1, 1, 1]))]))
        nodes.append(Node(name: "relu\(unit)", opType: "Relu", inputs: ["c\(unit)"], outputs: ["r\(unit)"]))
        value = "r\(unit)"
    }
    return Graph(inputs: [Value(name: "x", elementType: .float32, shape: [.fixed(1), .fixed(2), .fixed(4), .fixed(4)])],
                 outputs: [Value(name: value, elementType: .float32)], initializers: initializers, nodes: nodes)
}

@Test func aFileOfManyChunksIsWrittenInOrderAndLoadsBack() throws {
    let graph = try longChain(units: 12_000)
    let directory = try temporaryDirectory("onnx")
    defer { try? FileManager.default.removeItem(at: directory) }
    let path = directory.appendingPathComponent("long.onnx").path
    try ONNXWriter.write(graph, to: path)
    let written = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
    #expect(written.count > 3 << 20)
    // The writer thread's chunks and the large tensor's direct write, in the serializer's order.
    #expect(written == ONNXWriter.serialize(graph))
    let loaded = try ONNXModelLoader.load(path: path)
    #expect(loaded.graph == graph)
    #expect(loaded.graph.initializers["w7"]?.shape == [2, 2, 3, 3])
    #expect(loaded.graph.initializers["w6000"]?.shape == [1 << 17, 2, 1, 2])
    #expect(loaded.graph.initializers["b11999"]?.elements(as: Float.self) == [11999, -1])
}
