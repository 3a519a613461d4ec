import GhostIR
import TestSupport
@testable import GhostPasses
import Testing

extension TestGraphBuilder {
    /// A Gemm with a random weight ([N, K] with transB, else [K, N]) and bias [N].
    mutating func gemm(_ name: String, _ input: String, k: Int, n: Int, transB: Bool = true, alpha: Float = 1, beta: Float = 1) -> String {
        let weight = constant("\(name).W", random.floats(k * n), shape: transB ? [n, k] : [k, n])
        let bias = constant("\(name).B", random.floats(n), shape: [n])
        return op("Gemm", name, [input, weight, bias], attributes: [
            Attribute(name: "transB", value: .int(transB ? 1 : 0)), Attribute(name: "alpha", value: .float(alpha)),
            Attribute(name: "beta", value: .float(beta))])
    }

    /// MatMul by a random [K, N] weight, then (if `bias`) Add of a random [N].
    mutating func linear(_ name: String, _ input: String, k: Int, n: Int, bias: Bool = true) -> String {
        let product = op("MatMul", name, [input, constant("\(name).W", random.floats(k * n), shape: [k, n])])
        guard bias else { return product }
        return op("Add", "\(name).add", [product, constant("\(name).B", random.floats(n), shape: [n])])
    }
}

private func codes(_ pass: any GraphPass, _ graph: Graph) throws -> [String] {
    try runPass(pass, graph).1.skipped.map(\.code)
}

@Test func batchNormAfterGemmFoldsAlphaBetaAndTransB() throws {
    for transB in [true, false] {
        var builder = TestGraphBuilder(shape: [3, 5])
        let gemm = builder.gemm("Gemm_0", "x", k: 5, n: 4, transB: transB, alpha: 0.5, beta: 2)
        builder.output(builder.batchNorm("BN_1", gemm, channels: 4))
        let (after, log) = try runPass(FoldBatchNormIntoLinear(), builder.graph)
        #expect(after.nodes.map(\.opType) == ["Gemm"])
        #expect(after.nodes[0].outputs == ["BN_1.out"] && after.nodes[0].fusedFrom == ["Gemm_0", "BN_1"])
        #expect(log.rewrites.count == 1)
        #expect(try NaiveEvaluator.relativeDifference(builder.graph, after, shape: [3, 5]) <= 1e-12)
    }
}

@Test func batchNormBeforeGemmFolds() throws {
    // RepViT's classifier: BN1d → Linear.
    var builder = TestGraphBuilder(shape: [3, 5])
    let bn = builder.batchNorm("BN_0", "x", channels: 5)
    builder.output(builder.gemm("Gemm_1", bn, k: 5, n: 4))
    let (after, _) = try runPass(FoldBatchNormIntoLinear(), builder.graph)
    #expect(after.nodes.map(\.opType) == ["Gemm"] && after.nodes[0].inputs[0] == "x")
    #expect(try NaiveEvaluator.relativeDifference(builder.graph, after, shape: [3, 5]) <= 1e-12)
}

@Test func batchNormBeforeGemmFollowsTheFormula() throws {
    // s = 2, t = 1 (γ=2, β=1, μ=0, σ²+ε=1); W = [[3]], b = 4 → W' = 6, b' = 4 + 1·3 = 7.
    var builder = TestGraphBuilder(shape: [1, 1])
    for (name, value) in [("g", 2), ("b", 1), ("m", 0), ("v", 0.5), ("W", 3), ("B", 4)] as [(String, Float)] {
        _ = builder.constant(name, [value], shape: name == "W" ? [1, 1] : [1])
    }
    builder.graph.nodes.append(Node(name: "N", opType: "BatchNormalization", inputs: ["x", "g", "b", "m", "v"],
                                    outputs: ["n"], attributes: [Attribute(name: "epsilon", value: .float(0.5))]))
    builder.output(builder.op("Gemm", "G", ["n", "W", "B"]))
    let (after, _) = try runPass(FoldBatchNormIntoLinear(), builder.graph)
    let gemm = try #require(after.nodes.first)
    #expect(after.initializers[gemm.inputs[1]]?.doubleValues() == [6])
    #expect(after.initializers[gemm.inputs[2]]?.doubleValues() == [7])
}

@Test func batchNormAroundMatMulKeepsTheMatMulAddForm() throws {
    var builder = TestGraphBuilder(shape: [3, 5])
    let linear = builder.linear("MatMul_0", "x", k: 5, n: 4)
    builder.output(builder.batchNorm("BN_1", linear, channels: 4))
    let (after, _) = try runPass(FoldBatchNormIntoLinear(), builder.graph)
    #expect(after.nodes.map(\.opType) == ["MatMul", "Add"] && after.nodes[1].outputs == ["BN_1.out"])
    #expect(try NaiveEvaluator.relativeDifference(builder.graph, after, shape: [3, 5]) <= 1e-12)

    // Before a bias-less MatMul: the shift becomes a new bias Add.
    var before = TestGraphBuilder(shape: [3, 5])
    let bn = before.batchNorm("BN_0", "x", channels: 5)
    before.output(before.linear("MatMul_1", bn, k: 5, n: 4, bias: false))
    let (folded, _) = try runPass(FoldBatchNormIntoLinear(), before.graph)
    #expect(folded.nodes.map(\.opType) == ["MatMul", "Add"])
    #expect(try NaiveEvaluator.relativeDifference(before.graph, folded, shape: [3, 5]) <= 1e-12)
}

@Test func leViTBatchNormThroughFlattenOrReshapeFolds() throws {
    // [B, L, F] → MatMul → Flatten(axis 2) or Reshape [B·L, F] → BN → Reshape back.
    for reshape in ["Flatten", "Reshape"] {
        var builder = TestGraphBuilder(shape: [2, 3, 5])
        let product = builder.linear("MatMul_0", "x", k: 5, n: 4, bias: false)
        let flat = reshape == "Flatten"
            ? builder.op("Flatten", "Flat", [product], attributes: [Attribute(name: "axis", value: .int(2))])
            : builder.op("Reshape", "Flat", [product, shapeConstant(&builder, "s1", [6, 4])])
        let bn = builder.batchNorm("BN_1", flat, channels: 4)
        builder.output(builder.op("Reshape", "Back", [bn, shapeConstant(&builder, "s2", [2, 3, 4])]))
        let (after, log) = try runPass(FoldBatchNormIntoLinear(), builder.graph)
        #expect(after.count("BatchNormalization") == 0, "\(reshape): \(log.skipped)")
        #expect(after.nodes.map(\.opType) == ["MatMul", "Add", reshape, "Reshape"])
        #expect(try NaiveEvaluator.relativeDifference(builder.graph, after, shape: [2, 3, 5]) <= 1e-12)
    }
}

private func shapeConstant(_ builder: inout TestGraphBuilder, _ name: String, _ shape: [Int64]) -> String {
    builder.graph.initializers[name] = try! Tensor(int64: shape, shape: [shape.count])
    return name
}

@Test func transposedWeightOfTheTorchScriptExportIsRead() throws {
    var builder = TestGraphBuilder(shape: [3, 5])
    let weight = builder.op("Transpose", "T", [builder.constant("W", builder.random.floats(20), shape: [4, 5])],
                            attributes: [Attribute(name: "perm", value: .ints([1, 0]))])
    let product = builder.op("MatMul", "MatMul_0", ["x", weight])
    builder.output(builder.batchNorm("BN_1", product, channels: 4))
    let (after, _) = try runPass(FoldBatchNormIntoLinear(), builder.graph)
    #expect(after.count("BatchNormalization") == 0)
    #expect(try NaiveEvaluator.relativeDifference(builder.graph, after, shape: [3, 5]) <= 1e-12)
}

@Test func batchNormOverAThreeDimensionalProductIsRefused() throws {
    // BN's axis 1 of [B, L, F] is L, not the features: never folded into the weight's columns.
    var builder = TestGraphBuilder(shape: [2, 4, 4])
    builder.output(builder.batchNorm("BN_1", builder.linear("MatMul_0", "x", k: 4, n: 4, bias: false), channels: 4))
    #expect(try codes(FoldBatchNormIntoLinear(), builder.graph) == ["linear-rank-unknown"])
    var flat = TestGraphBuilder(shape: [2, 4, 4])
    let moved = flat.op("Flatten", "F", [flat.linear("MatMul_0", "x", k: 4, n: 4, bias: false)], attributes: [Attribute(name: "axis", value: .int(1))])
    flat.output(flat.batchNorm("BN_1", moved, channels: 4))
    #expect(try codes(FoldBatchNormIntoLinear(), flat.graph) == ["reshape-moves-features"])
}

@Test func linearBatchNormRefusalsCarryTheirCodes() throws {
    var mismatch = TestGraphBuilder(shape: [3, 5])
    mismatch.output(mismatch.batchNorm("BN_1", mismatch.gemm("Gemm_0", "x", k: 5, n: 4), channels: 3))
    #expect(try codes(FoldBatchNormIntoLinear(), mismatch.graph) == ["linear-feature-mismatch"])
    var transA = TestGraphBuilder(shape: [5, 3])
    let gemm = transA.op("Gemm", "Gemm_0", ["x", transA.constant("W", transA.random.floats(20), shape: [5, 4])],
                         attributes: [Attribute(name: "transA", value: .int(1))])
    transA.output(transA.batchNorm("BN_1", gemm, channels: 4))
    #expect(try codes(FoldBatchNormIntoLinear(), transA.graph) == ["linear-attribute-unsupported"])
    var dynamic = TestGraphBuilder(shape: [3, 5])
    dynamic.graph.inputs.append(Value(name: "w", elementType: .float64, shape: [.fixed(5), .fixed(4)]))
    dynamic.output(dynamic.batchNorm("BN_1", dynamic.op("MatMul", "M", ["x", "w"]), channels: 4))
    #expect(try codes(FoldBatchNormIntoLinear(), dynamic.graph) == ["linear-weight-not-constant"])
}

@Test func perFeatureConstantsFoldOnEitherSide() throws {
    let cases: [(String, Bool, Bool)] = [  // op, after the layer, constant on the left
        ("Mul", true, false), ("Add", true, true), ("Sub", true, false), ("Sub", true, true), ("Div", true, false),
        ("Mul", false, true), ("Add", false, false), ("Sub", false, true), ("Div", false, false),
    ]
    for (op, after, constantLeft) in cases {
        for gemm in [true, false] {
            var builder = TestGraphBuilder(shape: [3, 5])
            let features = after ? 4 : 5
            let c = builder.constant("c", builder.random.floats(features, 0.5, 1.5), shape: constantLeft ? [1, features] : [features])
            func affine(_ value: String) -> String { builder.op(op, "Op", constantLeft ? [c, value] : [value, c]) }
            if after {
                builder.output(affine(gemm ? builder.gemm("L", "x", k: 5, n: 4) : builder.linear("L", "x", k: 5, n: 4)))
            } else {
                let v = affine("x")
                builder.output(gemm ? builder.gemm("L", v, k: 5, n: 4) : builder.linear("L", v, k: 5, n: 4))
            }
            let (folded, log) = try runPass(FoldAffineIntoLinear(), builder.graph)
            #expect(folded.count(op) == (op == "Add" && !gemm ? 1 : 0), "\(op) after=\(after) left=\(constantLeft): \(log.skipped)")
            #expect(log.rewrites.count == 1)
            #expect(try NaiveEvaluator.relativeDifference(builder.graph, folded, shape: [3, 5]) <= 1e-12)
        }
    }
}

@Test func theBiasAddOfAMatMulIsNotASite() throws {
    var builder = TestGraphBuilder(shape: [3, 5])
    builder.output(builder.linear("L", "x", k: 5, n: 4))
    let (after, log) = try runPass(FoldAffineIntoLinear(), builder.graph)
    #expect(after == builder.graph && log.skipped.isEmpty && log.rewrites.isEmpty)
}

@Test func affineLinearRefusalsCarryTheirCodes() throws {
    func graph(_ op: String, _ values: [Float], shape: [Int], constantLeft: Bool = false) -> Graph {
        var builder = TestGraphBuilder(shape: [3, 5])
        let gemm = builder.gemm("L", "x", k: 5, n: 4)
        let c = builder.constant("c", values, shape: shape)
        builder.output(builder.op(op, "Op", constantLeft ? [c, gemm] : [gemm, c]))
        return builder.graph
    }
    #expect(try codes(FoldAffineIntoLinear(), graph("Div", [1, 0, 2, 3], shape: [4])) == ["divisor-has-zero"])
    #expect(try codes(FoldAffineIntoLinear(), graph("Div", [1, 1, 2, 3], shape: [4], constantLeft: true)) == ["linear-is-divisor"])
    #expect(try codes(FoldAffineIntoLinear(), graph("Mul", Array(repeating: 2, count: 12), shape: [3, 4])) == ["linear-bias-not-per-feature"])
    #expect(try codes(FoldAffineIntoLinear(), graph("Mul", [2], shape: [1, 1, 1])) == ["linear-bias-not-per-feature"])
}

@Test func aScaledProductOfTwoComputedValuesIsNotASite() throws {
    // Attention's Mul(MatMul(q, kᵀ), 1/√d): no constant weight, so no linear layer.
    var builder = TestGraphBuilder(shape: [3, 5])
    builder.graph.inputs.append(Value(name: "k", elementType: .float64, shape: [.fixed(5), .fixed(3)]))
    let product = builder.op("MatMul", "QK", ["x", "k"])
    builder.output(builder.op("Mul", "Scale", [product, builder.constant("c", [0.5], shape: [])]))
    let (after, log) = try runPass(FoldAffineIntoLinear(), builder.graph)
    #expect(after == builder.graph && log.skipped.isEmpty)
}
