import Foundation
import GhostIR
import GhostInterpreter
import GhostONNX
@testable import GhostPasses
import Testing

/// The shape-fold rules: structure after fuse, numbers against the interpreter (float64) before
/// and after, each refusal's code, and the node counts reached on the seed networks.

private func int64Constant(_ graph: inout Graph, _ name: String, _ values: [Int64], scalar: Bool = false) -> String {
    graph.initializers[name] = try! Tensor(int64: values, shape: scalar ? [] : [values.count])
    return name
}

private func node(_ graph: inout Graph, _ op: String, _ name: String, _ inputs: [String], _ attributes: [Attribute] = []) -> String {
    graph.nodes.append(Node(name: name, opType: op, inputs: inputs, outputs: ["\(name).out"], attributes: attributes))
    return "\(name).out"
}

private func graph(input shape: [ShapeDimension]) -> Graph {
    Graph(name: "t", inputs: [Value(name: "x", elementType: .float64, shape: shape)])
}

/// Runs both graphs in the interpreter at float64 on one random input of `shape` and returns
/// max |Δ| over the outputs (and that the output shapes agree).
private func difference(_ before: Graph, _ after: Graph, shape: [Int]) throws -> Double {
    let count = shape.reduce(1, *)
    let values = (0..<count).map { Double(($0 * 7919) % 1000) / 500 - 1 }
    let input = try Tensor(float64: values, shape: shape)
    let a = try Interpreter(graph: before, precision: .float64).run(["x": input])
    let b = try Interpreter(graph: after, precision: .float64).run(["x": input])
    var worst = 0.0
    for output in before.outputs {
        let x = try #require(a[output.name]), y = try #require(b[output.name])
        #expect(x.shape == y.shape)
        for (p, q) in zip(x.doubleValues(), y.doubleValues()) { worst = max(worst, abs(p - q)) }
    }
    return worst
}

private func computeNodes(_ graph: Graph) -> Int {
    graph.nodes.filter { $0.opType != "Constant" && $0.opType != "Identity" }.count
}

/// x → Relu → Reshape(Concat(Unsqueeze(Gather(Shape, 0)), [2], Unsqueeze(Div(Gather(Shape, 1), 2)), [-1])),
/// the TorchScript channel-shuffle pattern.
private func shuffleGraph(batch: ShapeDimension) -> Graph {
    var g = graph(input: [batch, .fixed(4), .fixed(3), .fixed(3)])
    let relu = node(&g, "Relu", "relu", ["x"])
    let shape = node(&g, "Shape", "shape", [relu])
    let n = node(&g, "Gather", "n", [shape, int64Constant(&g, "zero", [0], scalar: true)], [Attribute(name: "axis", value: .int(0))])
    let shape1 = node(&g, "Shape", "shape1", [relu])
    let c = node(&g, "Gather", "c", [shape1, int64Constant(&g, "one", [1], scalar: true)], [Attribute(name: "axis", value: .int(0))])
    let half = node(&g, "Div", "half", [c, int64Constant(&g, "two", [2], scalar: true)])
    let cast = node(&g, "Cast", "cast", [half], [Attribute(name: "to", value: .int(7))])
    let axes = int64Constant(&g, "axes", [0])
    let parts = [node(&g, "Unsqueeze", "u0", [n, axes]), int64Constant(&g, "groups", [2]),
                 node(&g, "Unsqueeze", "u1", [cast, axes]), int64Constant(&g, "rest", [9])]
    let target = node(&g, "Concat", "target", parts, [Attribute(name: "axis", value: .int(0))])
    let reshaped = node(&g, "Reshape", "reshape", [relu, target])
    let transposed = node(&g, "Transpose", "transpose", [reshaped], [Attribute(name: "perm", value: .ints([0, 2, 1, 3]))])
    g.outputs = [Value(name: transposed, elementType: .float64)]
    return g
}

@Test func staticChannelShuffleFoldsToAConstantReshape() throws {
    let before = shuffleGraph(batch: .fixed(2))
    let after = try fuse(before).graph
    #expect(after.nodes.map(\.opType) == ["Relu", "Reshape", "Transpose"])
    let reshape = try #require(after.nodes.first { $0.opType == "Reshape" })
    #expect(after.initializers[reshape.inputs[1]]?.int64Values() == [2, 2, 2, 9])
    #expect(try difference(before, after, shape: [2, 4, 3, 3]) == 0)
}

@Test func dynamicBatchBecomesMinusOneAndStillRunsOnAnyBatch() throws {
    let before = shuffleGraph(batch: .symbolic("N"))
    let result = try fuse(before)
    let after = result.graph
    #expect(after.nodes.map(\.opType) == ["Relu", "Reshape", "Transpose"])
    let reshape = try #require(after.nodes.first { $0.opType == "Reshape" })
    #expect(after.initializers[reshape.inputs[1]]?.int64Values() == [-1, 2, 2, 9])
    #expect(reshape.fusedFrom == ["reshape"])
    for batch in [1, 3] {
        #expect(try difference(before, after, shape: [batch, 4, 3, 3]) == 0)
    }
    // The batch entry alone is not static: that Gather is reported, then goes with its Reshape.
    #expect(result.report("fold-reshape-target")?.rewrites.count == 1)
}

@Test func shapeOfAnUnknownDimensionIsSkippedWithItsCode() throws {
    var g = graph(input: [.symbolic("N"), .fixed(4)])
    let shape = node(&g, "Shape", "shape", ["x"])
    let n = node(&g, "Gather", "n", [shape, int64Constant(&g, "zero", [0], scalar: true)])
    let cast = node(&g, "Cast", "cast", [n], [Attribute(name: "to", value: .int(11))])
    let scaled = node(&g, "Mul", "scaled", ["x", cast])
    g.outputs = [Value(name: scaled, elementType: .float64)]
    let (_, log) = try runPass(FoldShape(), g)
    #expect(log.rewrites.isEmpty)
    #expect(log.skipped.map(\.code) == ["shape-not-static", "shape-not-static"])
    #expect(log.skipped.first?.reason.contains("N") == true)
}

@Test func reshapeWithTwoUnknownEntriesIsRefused() throws {
    var g = graph(input: [.symbolic("N"), .symbolic("H"), .fixed(4)])
    let shape = node(&g, "Shape", "shape", ["x"])
    let first = node(&g, "Slice", "first", [shape, int64Constant(&g, "s", [0]), int64Constant(&g, "e", [2])])
    let target = node(&g, "Concat", "target", [first, int64Constant(&g, "four", [4])], [Attribute(name: "axis", value: .int(0))])
    let reshaped = node(&g, "Reshape", "reshape", ["x", target])
    g.outputs = [Value(name: reshaped, elementType: .float64)]
    let (after, log) = try runPass(FoldReshapeTarget(), g)
    #expect(after == g)
    #expect(log.skipped.map(\.code) == ["reshape-target-unresolved"])
}

@Test func noopsGoAndTheGraphOutputKeepsItsName() throws {
    var g = graph(input: [.fixed(1), .fixed(6), .fixed(4), .fixed(4)])
    let relu = node(&g, "Relu", "relu", ["x"])
    let all = node(&g, "Slice", "all", [relu, int64Constant(&g, "s0", [0]), int64Constant(&g, "e0", [Int64.max]), int64Constant(&g, "a0", [1])])
    let same = node(&g, "Transpose", "same", [all], [Attribute(name: "perm", value: .ints([0, 1, 2, 3]))])
    let cast = node(&g, "Cast", "cast", [same], [Attribute(name: "to", value: .int(11))])
    let pad = node(&g, "Pad", "pad", [cast, int64Constant(&g, "pads", Array(repeating: 0, count: 8))])
    let reshape = node(&g, "Reshape", "reshape", [pad, int64Constant(&g, "t", [1, 6, 4, -1])])
    let expand = node(&g, "Expand", "expand", [reshape, int64Constant(&g, "one", [1])])
    let sigmoid = node(&g, "Sigmoid", "sigmoid", [expand])
    let tail = node(&g, "Slice", "tail", [sigmoid, int64Constant(&g, "s1", [0]), int64Constant(&g, "e1", [4]), int64Constant(&g, "a1", [-1])])
    g.outputs = [Value(name: tail, elementType: .float64)]
    let after = try fuse(g).graph
    #expect(after.nodes.map(\.opType) == ["Relu", "Sigmoid"])
    #expect(after.outputs.map(\.name) == [tail])
    #expect(after.nodes.last?.outputs == [tail])
    #expect(try difference(g, after, shape: [1, 6, 4, 4]) == 0)
}

@Test func aRealSliceAndAnotherCastStay() throws {
    var g = graph(input: [.fixed(1), .fixed(6), .fixed(4), .fixed(4)])
    let part = node(&g, "Slice", "part", ["x", int64Constant(&g, "s", [0]), int64Constant(&g, "e", [5]), int64Constant(&g, "a", [1])])
    let cast = node(&g, "Cast", "cast", [part], [Attribute(name: "to", value: .int(1))])
    let transposed = node(&g, "Transpose", "t", [cast], [Attribute(name: "perm", value: .ints([0, 2, 1, 3]))])
    g.outputs = [Value(name: transposed, elementType: .float32)]
    let (after, log) = try runPass(EliminateNoopOps(), g)
    #expect(after == g)
    #expect(log.rewrites.isEmpty && log.skipped.isEmpty)
}

@Test func sliceOfConcatKeepingOneOperandIsThatOperand() throws {
    var g = graph(input: [.fixed(1), .fixed(3), .fixed(2), .fixed(2)])
    let a = node(&g, "Relu", "a", ["x"])
    let b = node(&g, "Sigmoid", "b", ["x"])
    let c = node(&g, "Tanh", "c", ["x"])
    let joined = node(&g, "Concat", "joined", [a, b, c], [Attribute(name: "axis", value: .int(1))])
    let middle = node(&g, "Slice", "middle", [joined, int64Constant(&g, "s", [3]), int64Constant(&g, "e", [6]), int64Constant(&g, "ax", [1])])
    let skewed = node(&g, "Slice", "skewed", [joined, int64Constant(&g, "s2", [2]), int64Constant(&g, "e2", [5]), int64Constant(&g, "ax2", [-3])])
    let sum = node(&g, "Add", "sum", [middle, skewed])
    g.outputs = [Value(name: sum, elementType: .float64)]
    let result = try fuse(g)
    #expect(result.graph.nodes.map(\.opType) == ["Relu", "Sigmoid", "Tanh", "Concat", "Slice", "Add"])
    #expect(result.graph.nodes.last?.inputs.first == b)
    #expect(result.report("slice-of-concat")?.skipped.map(\.code) == ["slice-not-an-operand"])
    #expect(try difference(g, result.graph, shape: [1, 3, 2, 2]) == 0)
}

@Test func foldConstantsTurnsConstantNodesIntoInitializersAndBoundsResults() throws {
    var g = graph(input: [.fixed(2), .fixed(3)])
    g.nodes.append(Node(name: "k", opType: "Constant", inputs: [], outputs: ["k.out"],
                        attributes: [Attribute(name: "value_ints", value: .ints([3, 2]))]))
    let reshaped = node(&g, "Reshape", "reshape", ["x", "k.out"])
    let huge = node(&g, "ConstantOfShape", "huge", [int64Constant(&g, "big", [1 << 11, 1 << 11])])
    let zero = node(&g, "Div", "zero", [int64Constant(&g, "p", [1]), int64Constant(&g, "q", [0])])
    let shape = node(&g, "Shape", "shape", [huge])
    let both = node(&g, "Concat", "both", [zero, shape], [Attribute(name: "axis", value: .int(0))])
    g.outputs = [Value(name: reshaped, elementType: .float64), Value(name: both, elementType: .int64)]
    let (after, log) = try runPass(FoldConstants(), g)
    #expect(after.initializers["k.out"]?.int64Values() == [3, 2])
    #expect(!after.nodes.contains { $0.opType == "Constant" })
    #expect(Set(log.skipped.map(\.code)) == ["fold-result-too-large", "fold-division-by-zero"])
    #expect(after.nodes.map(\.opType) == ["Reshape", "ConstantOfShape", "Div", "Shape", "Concat"])
}

// MARK: - Seed networks

private let models = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("Models")

/// Compute nodes (not Constant/Identity) after fuse; onnxsim 0.8.1 on the same files leaves the
/// second number (Benchmarks/fuse/node_counts.py; docs/performance.md).
@Test(arguments: [
    ("ghostnet_100", 209, 241), ("ghostnet_020_dynamo", 209, 209), ("shufflenet_v2_x1_0", 186, 186),
    ("shufflenet_v2_x0_5_dynamo", 173, 173), ("mobilenetv3_large_025", 139, 139), ("mobilenetv3_large_025_dynamo", 139, 139),
    ("repghostnet_100", 177, 241), ("repghostnet_025_dynamo", 177, 241), ("ghostnet_cifar", 216, 251),
    ("ghostnet_cifar_dynamo", 216, 219), ("repghostnet_025_opset11", 177, 241), ("repghostnet_025_opset13", 177, 241),
    ("mobilenetv3_small_025", 123, 123), ("mobilenetv3_small_025_opset11", 142, 142), ("mobilenetv3_small_tv", 122, 123),
    ("mobilenetv3_small_tv_dynamo", 122, 123), ("yolov9_narrow", 465, 496), ("yolov9_narrow_dynamo", 456, 487),
    ("yolov10_tiny", 300, 302), ("yolov10_tiny_dynamo", 291, 293), ("yolov10_tiny_topk", 317, 318),
])
func seedNetworksEndWithNoMoreComputeNodesThanOnnxsim(_ model: String, _ expected: Int, _ onnxsim: Int) throws {
    let path = models.appendingPathComponent("\(model)/model.onnx").path
    guard FileManager.default.fileExists(atPath: path) else { return }
    let fused = try fuse(try ONNXModelLoader.load(path: path).graph).graph
    #expect(computeNodes(fused) == expected, "\(model): \(computeNodes(fused)) compute nodes")
    #expect(expected <= onnxsim)
    var gone = ["Constant", "Shape", "BatchNormalization"]
    // The YOLO heads gather and unsqueeze real tensors (TopK indices), not shapes.
    if !model.hasPrefix("yolo") { gone += ["Gather", "Unsqueeze"] }
    for op in gone {
        #expect(fused.count(op) == 0, "\(model): \(fused.count(op)) \(op) left")
    }
    #expect(GraphVerifier.defects(in: fused).isEmpty)
}

// MARK: - Shape inference against the interpreter

/// Each Shape that fold-shape folds must equal the shape the interpreter computes for that value.
@Test func foldedShapesAgreeWithTheInterpreter() throws {
    var g = graph(input: [.fixed(1), .fixed(3), .fixed(7), .fixed(7)])
    var b = TestGraphBuilder(shape: [1, 3, 7, 7])
    let conv = b.conv("conv", "x", out: 4, in: 3, kernel: 3, pads: [1, 1, 1, 1], strides: 2)
    g.nodes = b.graph.nodes
    g.initializers = b.graph.initializers
    let pool = node(&g, "MaxPool", "pool", [conv], [Attribute(name: "kernel_shape", value: .ints([3, 3])),
                                                   Attribute(name: "strides", value: .ints([2, 2])), Attribute(name: "ceil_mode", value: .int(1))])
    let average = node(&g, "AveragePool", "avg", [conv], [Attribute(name: "kernel_shape", value: .ints([2, 2])),
                                                         Attribute(name: "strides", value: .ints([2, 2])), Attribute(name: "pads", value: .ints([0, 0, 1, 1]))])
    g.initializers["scales"] = try Tensor(float32: [1, 1, 2, 3], shape: [4])
    let resized = node(&g, "Resize", "resize", [average, "", "scales"], [Attribute(name: "mode", value: .string(Array("nearest".utf8)))])
    let reduced = node(&g, "ReduceMean", "reduce", [resized], [Attribute(name: "axes", value: .ints([1])), Attribute(name: "keepdims", value: .int(0))])
    let transposed = node(&g, "Transpose", "transpose", [reduced], [Attribute(name: "perm", value: .ints([2, 0, 1]))])
    let flat = node(&g, "Flatten", "flat", [pool], [Attribute(name: "axis", value: .int(2))])
    let values = [conv, pool, average, resized, reduced, transposed, flat]
    g.outputs = values.map { Value(name: $0, elementType: .float64) }
    for value in values {
        let shape = node(&g, "Shape", "shape_\(value)", [value])
        let cast = node(&g, "Cast", "cast_\(value)", [shape], [Attribute(name: "to", value: .int(11))])
        g.outputs.append(Value(name: cast, elementType: .float64))
    }
    let (folded, log) = try runPass(FoldShape(), g)
    #expect(log.rewrites.count == values.count && log.skipped.isEmpty)
    let input = try Tensor(float64: Array(repeating: 0.5, count: 147), shape: [1, 3, 7, 7])
    let actual = try Interpreter(graph: g, precision: .float64).run(["x": input])
    for value in values {
        let computed = try #require(actual[value]).shape
        #expect(folded.initializers["shape_\(value).out"]?.int64Values() == computed.map(Int64.init), "\(value)")
    }
    #expect(actual[pool]?.shape == [1, 4, 2, 2])
}

/// A sweep of random 1-D slices (any start, end and step, INT64 extremes included) against the
/// spec's definition written as a loop over candidate indices.
@Test func randomSlicesMatchTheSpecLoop() throws {
    var state: UInt64 = 0x9E37_79B9_7F4A_7C15
    func next(_ range: ClosedRange<Int64>) -> Int64 {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return range.lowerBound + Int64(bitPattern: (state >> 11) % UInt64(range.upperBound - range.lowerBound + 1))
    }
    let extremes: [Int64] = [Int64.min, Int64.max, Int64(Int32.min), Int64(Int32.max)]
    for _ in 0..<400 {
        let size = Int(next(0...9))
        let data = (0..<Int64(size)).map { $0 * 10 }
        func bound() -> Int64 { next(0...5) == 0 ? extremes[Int(next(0...3))] : next(-12...12) }
        let start = bound(), end = bound()
        var step = next(-4...4)
        if step == 0 { step = 1 }
        // Spec: negative bounds + size, then clamp; keep i = start + k·step while on the right side of end.
        let n = Int64(size)
        var s = start < 0 ? start + n : start, e = end < 0 ? end + n : end
        if step > 0 { s = min(max(s, 0), n); e = min(max(e, 0), n) } else { s = min(max(s, 0), n - 1); e = min(max(e, -1), n - 1) }
        var expected: [Int64] = []
        var i = s
        while step > 0 ? i < e : i > e {
            expected.append(data[Int(i)])
            i += step
        }
        let result = try ConstantEvaluator.slice(try Tensor(int64: data, shape: [size]),
                                                 [ShapeOps.SliceAxis(axis: 0, start: start, end: end, step: step)])
        #expect(result.int64Values() == expected, "size \(size) [\(start):\(end):\(step)]")
    }
}
