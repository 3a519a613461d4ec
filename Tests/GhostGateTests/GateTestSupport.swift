import Foundation
import GhostGate
import GhostIR
import GhostONNX
import GhostPasses
import TestSupport

enum Fixtures {
    /// x → Conv (2 kernels, bias) → BatchNormalization → Relu → y: one fold for the default pipeline.
    static func convBatchNorm() throws -> Graph {
        var initializers = InitializerTable()
        initializers["W"] = try Tensor(float32: (0..<24).map { Float($0 % 7) * 0.25 - 0.5 }, shape: [2, 3, 2, 2])
        initializers["b"] = try Tensor(float32: [0.1, -0.2], shape: [2])
        initializers["gamma"] = try Tensor(float32: [1.2, 0.8], shape: [2])
        initializers["beta"] = try Tensor(float32: [0.05, -0.1], shape: [2])
        initializers["mean"] = try Tensor(float32: [0.3, -0.4], shape: [2])
        initializers["var"] = try Tensor(float32: [1.5, 0.7], shape: [2])
        return Graph(
            name: "conv-bn",
            inputs: [Value(name: "x", elementType: .float32, shape: [.symbolic("N"), .fixed(3), .fixed(5), .fixed(5)])],
            outputs: [Value(name: "y", elementType: .float32)],
            initializers: initializers,
            nodes: [Node(name: "Conv_0", opType: "Conv", inputs: ["x", "W", "b"], outputs: ["c"]),
                    Node(name: "BN_1", opType: "BatchNormalization", inputs: ["c", "gamma", "beta", "mean", "var"], outputs: ["n"]),
                    Node(name: "Relu_2", opType: "Relu", inputs: ["n"], outputs: ["y"])],
            metadata: ModelMetadata(producerName: "gate-tests", producerVersion: "1"))
    }

    /// A node the reference interpreter does not know.
    static func unsupportedOperator() throws -> Graph {
        var graph = try convBatchNorm()
        graph.nodes[2] = Node(name: "Mystery_2", opType: "MysteryActivation", inputs: ["n"], outputs: ["y"])
        return graph
    }

    /// Add 1e6 → Conv (1×1, weight 1) → BatchNormalization (mean 1e6, var 2): folding the BN
    /// gives the Conv a float32 weight and bias, each rounded once, that miss by ~1e6 · 2⁻²⁴ ≈ 0.04
    /// against an output of order 1 — a fold that is not equivalent at 1e-5 (the original cancels
    /// the offset in the BN's subtraction, exactly in float64).
    static func cancellingBatchNorm() throws -> Graph {
        var initializers = InitializerTable()
        initializers["offset"] = try Tensor(float32: [1e6], shape: [])
        initializers["W"] = try Tensor(float32: [1], shape: [1, 1, 1, 1])
        initializers["gamma"] = try Tensor(float32: [1], shape: [1])
        initializers["beta"] = try Tensor(float32: [0], shape: [1])
        initializers["mean"] = try Tensor(float32: [1e6], shape: [1])
        initializers["var"] = try Tensor(float32: [2], shape: [1])
        return Graph(
            name: "cancelling",
            inputs: [Value(name: "x", elementType: .float32, shape: [.fixed(1), .fixed(1), .fixed(4), .fixed(4)])],
            outputs: [Value(name: "y", elementType: .float32)],
            initializers: initializers,
            nodes: [Node(name: "Add_0", opType: "Add", inputs: ["x", "offset"], outputs: ["shifted"]),
                    Node(name: "Conv_1", opType: "Conv", inputs: ["shifted", "W"], outputs: ["c"]),
                    Node(name: "BN_2", opType: "BatchNormalization", inputs: ["c", "gamma", "beta", "mean", "var"], outputs: ["y"])],
            metadata: ModelMetadata(producerName: "gate-tests", producerVersion: "1"))
    }

    static func write(_ graph: Graph, to url: URL) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try ONNXWriter.write(graph, to: url.path)
    }
}

/// A deliberately wrong last pass: scales the weight of the first kernel fused from several source
/// nodes by 1 + 1e-4, as a buggy fold would.
struct ScaleFirstFusedKernel: GraphPass {
    let name = "test-scale-first-fused-kernel"

    static func target(in graph: Graph) -> Node? {
        graph.nodes.first { $0.opType == "Conv" && $0.fusedFrom.count >= 2 }
    }

    func run(on graph: inout Graph, log: inout PassLog) throws(PassError) {
        guard let node = Self.target(in: graph), let weight = graph.initializers[node.inputs[1]],
              let scaled = try? Tensor(float32: weight.elements(as: Float.self).map { $0 * (1 + 1e-4) }, shape: weight.shape) else { return }
        graph.initializers[node.inputs[1]] = scaled
    }
}
