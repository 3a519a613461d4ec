import GhostIR
import TestSupport
@testable import GhostPasses
import Testing

@Test func identityChainsAreBypassed() throws {
    var builder = TestGraphBuilder(shape: [1, 2, 4, 4])
    let w = builder.op("Identity", "Id_w", [builder.constant("W", [1, 2, 3, 4], shape: [2, 2, 1, 1])])
    let w2 = builder.op("Identity", "Id_w2", [w])
    let conv = builder.op("Conv", "Conv_0", ["x", w2])
    builder.output(builder.op("Dropout", "Drop", [conv]))
    let (after, log) = try runPass(EliminateIdentity(), builder.graph)
    #expect(after.nodes.map(\.opType) == ["Conv"])
    #expect(after.nodes[0].inputs == ["x", "W"])
    // The Dropout's output is a graph output, so the Conv now produces it under that name.
    #expect(after.nodes[0].outputs == ["Drop.out"])
    #expect(log.rewrites.count == 3)
}

@Test func identityFromGraphInputToGraphOutputStays() throws {
    var builder = TestGraphBuilder(shape: [1, 2, 4, 4])
    builder.output(builder.op("Identity", "Passthrough", ["x"]))
    let (after, log) = try runPass(EliminateIdentity(), builder.graph)
    #expect(after == builder.graph)
    #expect(log.skipped.first?.node == "Passthrough")
}

@Test func trainingDropoutIsKept() throws {
    var builder = TestGraphBuilder(shape: [1, 2, 4, 4])
    builder.graph.initializers["train"] = try Tensor(elementType: .bool, shape: [], storage: TensorStorage(values: [UInt8(1)]))
    let ratio = builder.constant("ratio", [0.5], shape: [])
    let dropped = builder.op("Dropout", "Drop", ["x", ratio, "train"])
    builder.output(builder.op("Relu", "R", [dropped]))
    let (after, _) = try runPass(EliminateIdentity(), builder.graph)
    #expect(after.count("Dropout") == 1)
}

@Test func deadNodesAndInitializersGo() throws {
    var builder = TestGraphBuilder(shape: [1, 2, 4, 4])
    let used = builder.op("Relu", "Used", ["x"])
    _ = builder.op("Conv", "Dead", ["x", builder.constant("W", [1, 2, 3, 4], shape: [2, 2, 1, 1])])
    _ = builder.constant("Unused", [1], shape: [1])
    builder.output(used)
    builder.graph.inputs.append(Value(name: "Unused"))  // an initializer listed as an input (IR < 4)
    builder.graph.valueInfo.append(Value(name: "Dead.out"))
    let (after, log) = try runPass(EliminateDeadNodes(), builder.graph)
    #expect(after.nodes.map(\.name) == ["Used"])
    #expect(after.initializers.isEmpty)
    #expect(after.inputs.map(\.name) == ["x"])
    #expect(after.valueInfo.isEmpty)
    #expect(log.rewrites == [RewriteRecord(replaced: ["Dead"], result: "")])
}

@Test func kernelIsCentredInAnyPosition() throws {
    // 1×1 and 3×3 into 5×5: the 1×1 value lands at the centre (2,2), the 3×3 block at 1…3.
    var builder = TestGraphBuilder(shape: [1, 1, 7, 7])
    let big = builder.conv("big", "x", out: 1, in: 1, kernel: 5)
    let mid = builder.conv("mid", "x", out: 1, in: 1, kernel: 3)
    let small = builder.conv("small", "x", out: 1, in: 1, kernel: 1)
    builder.output(builder.op("Add", "Add_1", [builder.op("Add", "Add_0", [big, mid]), small]))
    let (after, log) = try runPass(PadKernelTo3x3(), builder.graph)
    #expect(log.rewrites.map(\.result).sorted() == ["mid", "small"])
    let smallNode = try #require(after.nodes.first { $0.name == "small" })
    let padded = try #require(after.initializers[smallNode.inputs[1]]).doubleValues()
    let original = builder.graph.initializers["small.W"]!.doubleValues()[0]
    #expect(padded.count == 25)
    #expect(padded[12] == original)
    #expect(padded.enumerated().allSatisfy { $0.offset == 12 || $0.element == 0 })
    #expect(smallNode.attribute("pads")?.intsValue == [2, 2, 2, 2])
    #expect(try NaiveEvaluator.relativeDifference(builder.graph, after, shape: [1, 1, 7, 7]) <= 1e-12)
}
