import GhostIR
@testable import GhostPasses
import Testing

// The per-site shortcuts of the branch-sum search and the BN read (passes-sites): small trees
// are searched as arrays, wide ones through a dictionary, and the answers must not depend on
// which; BN statistics are read from their bytes, whatever their float type.

/// Twenty Conv branches and an identity BN added up in a chain of Adds (21 operands, past the
/// 16 the search keeps in arrays): one site on x, every branch classified, one Conv at the end.
@Test func wideSumIsOneSiteOnItsInput() throws {
    var builder = TestGraphBuilder(shape: [1, 2, 5, 5])
    var total = builder.batchNorm("id.bn", "x", channels: 2)
    for branch in 0..<20 {
        let conv = builder.conv("c\(branch)", "x", out: 2, in: 2, kernel: branch.isMultiple(of: 2) ? 3 : 1, bias: true)
        total = builder.op("Add", "Add_\(branch)", [total, conv])
    }
    builder.output(total)
    let sums = BranchSum.find(in: GraphIndex(builder.graph))
    #expect(sums.count == 1)
    let sum = try #require(sums.first)
    #expect(sum.input == "x")
    #expect(sum.tree.count == 20)
    #expect(sum.convIndices.count == 20)
    #expect(sum.leaves.filter { $0.branch.isIdentityLike }.count == 1)
    let result = try fuse(builder.graph)
    #expect(result.graph.nodes.map(\.opType) == ["Conv"])
    #expect(try NaiveEvaluator.relativeDifference(builder.graph, result.graph, shape: [1, 2, 5, 5]) <= 1e-12)
}

/// Two inputs with two Conv branches each in one tree: the votes tie at 2, the least name is the
/// sum's input (whichever order the branches come in), and the other input's branches are
/// foreign. Neither sub-tree has two branches on one input, so the whole tree is the site.
@Test func tiedVotesPickTheLeastName() throws {
    for names in [["p", "q"], ["q", "p"]] {
        var builder = TestGraphBuilder(input: names[0], shape: [1, 2, 4, 4])
        builder.graph.inputs.append(Value(name: names[1], elementType: .float64, shape: [1, 2, 4, 4].map(ShapeDimension.fixed)))
        let left = builder.op("Add", "Add_0", [builder.conv("a0", names[0], out: 2, in: 2), builder.conv("b0", names[1], out: 2, in: 2)])
        let right = builder.op("Add", "Add_1", [builder.conv("a1", names[0], out: 2, in: 2), builder.conv("b1", names[1], out: 2, in: 2)])
        builder.output(builder.op("Add", "Add_2", [left, right]))
        let sums = BranchSum.find(in: GraphIndex(builder.graph))
        #expect(sums.count == 1, "inputs \(names)")
        #expect(sums.first?.input == "p", "inputs \(names)")
        #expect(sums.first?.leaves.filter(\.isForeign).count == 2, "inputs \(names)")
        #expect(sums.first?.convIndices.count == 2, "inputs \(names)")
    }
}

/// float32 BN statistics folded into a float64 Conv: each statistic is widened exactly, then
/// s = γ/√(σ²+ε), W' = W·s, b' = b·s + (β − μ·s) in Float64 (0.1 and 0.3 are not float32 values,
/// so reading them as Double literals would differ in the last places).
@Test func float32StatisticsFoldIntoAFloat64Conv() throws {
    var graph = Graph(name: "mixed", inputs: [Value(name: "x", elementType: .float64, shape: [1, 1, 2, 2].map(ShapeDimension.fixed))])
    graph.initializers["W"] = try Tensor(float64: [2], shape: [1, 1, 1, 1])
    graph.initializers["B"] = try Tensor(float64: [1], shape: [1])
    let (gamma, beta, mean, variance): (Float, Float, Float, Float) = (0.1, 0.3, -0.7, 1.9)
    for (name, value) in [("g", gamma), ("b", beta), ("m", mean), ("v", variance)] {
        graph.initializers[name] = try Tensor(float32: [value], shape: [1])
    }
    graph.nodes = [
        Node(name: "C", opType: "Conv", inputs: ["x", "W", "B"], outputs: ["c"]),
        Node(name: "N", opType: "BatchNormalization", inputs: ["c", "g", "b", "m", "v"], outputs: ["y"],
             attributes: [Attribute(name: "epsilon", value: .float(0.01))]),
    ]
    graph.outputs = [Value(name: "y", elementType: .float64)]
    let (after, _) = try runPass(FoldBatchNormIntoConv(), graph)
    let conv = try #require(after.nodes.first)
    let scale = Double(gamma) / (Double(variance) + Double(Float(0.01))).squareRoot()
    #expect(after.initializers[conv.inputs[1]]?.doubleValues() == [2 * scale])
    #expect(after.initializers[conv.inputs[2]]?.doubleValues() == [1 * scale + (Double(beta) - Double(mean) * scale)])
    #expect(scale != 0.1 / (1.9 + 0.01).squareRoot())
}

/// Statistics of different lengths are refused with the lengths in the reason, as before the
/// in-place read.
@Test func statisticsOfDifferentLengthsAreRefused() throws {
    var builder = TestGraphBuilder(shape: [1, 2, 3, 3])
    let conv = builder.conv("C", "x", out: 2, in: 2, kernel: 1)
    builder.output(builder.batchNorm("N", conv, channels: 2))
    builder.graph.initializers["N.var"] = try Tensor(float64: [1, 2, 3], shape: [3])
    let (after, log) = try runPass(FoldBatchNormIntoConv(), builder.graph)
    #expect(after.count("BatchNormalization") == 1)
    #expect(log.skipped.map(\.code) == ["bn-parameter-lengths"])
    #expect(log.skipped.first?.reason == "BatchNormalization parameters have different lengths [2, 2, 2, 3]")
}
