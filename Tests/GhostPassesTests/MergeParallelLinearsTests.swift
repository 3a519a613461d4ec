import GhostIR
import Testing

@testable import GhostPasses

/// A graph x [4, 6] → Gemm/MatMul branches, built for these tests.
private struct LinearBuilder {
    var builder = TestGraphBuilder(shape: [4, 6])

    mutating func gemm(_ name: String, transB: Bool = true, alpha: Float = 1, beta: Float = 1, bias: Bool = true) -> String {
        let weight = builder.constant("\(name).W", builder.random.floats(18), shape: transB ? [3, 6] : [6, 3])
        var inputs = ["x", weight]
        if bias { inputs.append(builder.constant("\(name).C", builder.random.floats(3), shape: [3])) }
        return builder.op("Gemm", name, inputs, attributes: [
            Attribute(name: "transB", value: .int(transB ? 1 : 0)),
            Attribute(name: "alpha", value: .float(alpha)), Attribute(name: "beta", value: .float(beta)),
        ])
    }

    mutating func matMul(_ name: String) -> String {
        builder.op("MatMul", name, ["x", builder.constant("\(name).W", builder.random.floats(18), shape: [6, 3])])
    }
}

/// RepViT's classifier with its distillation head: `(head(x) + head_dist(x)) / 2` is one Gemm.
@Test func distillationHeadsBecomeOneGemm() throws {
    var linear = LinearBuilder()
    let head = linear.gemm("head")
    let dist = linear.gemm("head_dist", transB: false, alpha: 0.5, beta: 2)
    let two = linear.builder.constant("two", [2], shape: [])
    linear.builder.output(linear.builder.op("Div", "Div_0", [linear.builder.op("Add", "Add_0", [head, dist]), two]))
    let graph = linear.builder.graph
    let result = try fuse(graph)
    #expect(result.graph.nodes.map(\.opType) == ["Gemm"])
    #expect(Set(result.graph.nodes[0].fusedFrom) == ["head", "head_dist", "Add_0", "Div_0"])
    #expect(try NaiveEvaluator.relativeDifference(graph, result.graph, shape: [4, 6]) <= 1e-12)
}

/// MatMul branches with a Sub, a per-feature scale and a bias constant, on a rank-2 input.
@Test func matMulBranchesWithScalesAndConstants() throws {
    var linear = LinearBuilder()
    let a = linear.matMul("a")
    let b = linear.gemm("b", bias: false)
    let scale = linear.builder.constant("scale", [0.5, -2, 3], shape: [1, 3])
    let shift = linear.builder.constant("shift", [1, 2, 3], shape: [3])
    let difference = linear.builder.op("Sub", "Sub_0", [a, linear.builder.op("Mul", "Mul_0", [scale, b])])
    linear.builder.output(linear.builder.op("Add", "Add_0", [difference, shift]))
    let graph = linear.builder.graph
    let result = try fuse(graph)
    #expect(result.graph.nodes.map(\.opType) == ["Gemm"])
    #expect(try NaiveEvaluator.relativeDifference(graph, result.graph, shape: [4, 6]) <= 1e-12)
}

/// Refusals, each with its code: transA on a branch, and a per-row (not per-feature) scale.
@Test func linearSumsThatStayGiveTheirCode() throws {
    var transposed = LinearBuilder()
    let a = transposed.gemm("a"), b = transposed.gemm("b")
    var graph = transposed.builder.graph
    if let position = graph.nodes.firstIndex(where: { $0.name == "b" }) {
        graph.nodes[position].attributes.append(Attribute(name: "transA", value: .int(1)))
    }
    graph.nodes.append(Node(name: "Add_0", opType: "Add", inputs: [a, b], outputs: ["y"]))
    graph.outputs = [Value(name: "y", elementType: .float64)]
    #expect(try fuse(graph).report("merge-parallel-linears")?.skipped.map(\.code) == ["linear-attribute-unsupported"])

    var perRow = LinearBuilder()
    let c = perRow.gemm("c"), d = perRow.gemm("d")
    let rows = perRow.builder.constant("rows", [1, 2, 3, 4], shape: [4, 1])
    perRow.builder.output(perRow.builder.op("Add", "Add_0", [c, perRow.builder.op("Mul", "Mul_0", [d, rows])]))
    let result = try fuse(perRow.builder.graph)
    #expect(result.report("merge-parallel-linears")?.skipped.map(\.code) == ["constant-not-per-channel"])
    #expect(result.graph.count("Gemm") == 2)
}
