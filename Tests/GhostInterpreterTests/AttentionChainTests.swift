import CKernels
import Foundation
import GhostIR
import TestSupport
@testable import GhostInterpreter
import Testing

/// q → MatMul(q, k) → s → Softmax → p → MatMul(p, v) → y, as MobileViT's attention; `extra`
/// nodes may read s or p, or make them graph outputs.
private struct AttentionCase {
    var q: [Int], k: [Int], v: [Int]
    var axis: Int64? = nil
    var opset: Int64 = 17
    var scoresAreOutput = false
    var probabilitiesReadTwice = false

    func graph() -> Graph {
        let inputs = [("q", q), ("k", k), ("v", v)].map { Value(name: $0.0, elementType: .float32, shape: $0.1.map(ShapeDimension.fixed)) }
        var nodes = [
            Node(name: "scores", opType: "MatMul", inputs: ["q", "k"], outputs: ["s"]),
            Node(name: "softmax", opType: "Softmax", inputs: ["s"], outputs: ["p"], attributes: axis.map { [Attribute(name: "axis", value: .int($0))] } ?? []),
            Node(name: "mix", opType: "MatMul", inputs: ["p", "v"], outputs: ["y"]),
        ]
        var outputs = [Value(name: "y")]
        if scoresAreOutput { outputs.append(Value(name: "s")) }
        if probabilitiesReadTwice {
            nodes.append(Node(name: "twice", opType: "Add", inputs: ["p", "p"], outputs: ["p2"]))
            outputs.append(Value(name: "p2"))
        }
        return Graph(inputs: inputs, outputs: outputs, initializers: InitializerTable(), nodes: nodes,
                     opsetImports: [OpsetImport(domain: "", version: opset)])
    }

    func feeds(seed: UInt64, special: Bool = false) throws -> [String: Tensor] {
        var random = SeededRandom(seed: seed)
        var q = random.values(self.q.reduce(1, *)).map { Float($0 * 3) }
        var k = random.values(self.k.reduce(1, *)).map { Float($0 * 3) }
        let v = random.values(self.v.reduce(1, *)).map { Float($0) }
        if special {
            q[1] = .nan  // row 0 of the first head: a NaN score in every column
            k[2] = .infinity  // column 2 of the first head: ±inf or NaN scores
            q[q.count - 1] = -.infinity
        }
        return ["q": try f32(q, self.q), "k": try f32(k, self.k), "v": try f32(v, self.v)]
    }

    func fuses() throws -> Bool {
        let plan = try ExecutionPlan(graph: graph(), precision: .float32, threads: 1)
        return plan.fusedSteps.contains { $0.operation.opType.hasPrefix("Attention") }
    }
}

/// Equal bits, or both NaN.
private func sameValues(_ x: [Double], _ y: [Double]) -> Bool {
    x.count == y.count && zip(x, y).allSatisfy { $0.isNaN ? $1.isNaN : $0 == $1 && $0.sign == $1.sign }
}

/// The three nodes written out in Double: y = softmax(q·k)·v over broadcast batches.
private func reference(_ example: AttentionCase, _ feeds: [String: Tensor]) throws -> [Double] {
    let q = try #require(feeds["q"]).doubleValues(), k = try #require(feeds["k"]).doubleValues(), v = try #require(feeds["v"]).doubleValues()
    let (m, d, n, e) = (example.q[example.q.count - 2], example.q.last!, example.k.last!, example.v.last!)
    let (_, pairs) = broadcastIndexPairs(Array(example.q.dropLast(2)), Array(example.k.dropLast(2)))
    var out: [Double] = []
    for (batch, (qi, ki)) in pairs.enumerated() {
        // V has the whole batch shape or none in these cases.
        let vi = example.v.count > 2 ? batch : 0
        for i in 0..<m {
            var s = [Double](repeating: 0, count: n)
            for j in 0..<n { for p in 0..<d { s[j] += q[qi * m * d + i * d + p] * k[ki * d * n + p * n + j] } }
            let peak = s.max()!
            let w = s.map { exp($0 - peak) }, total = w.reduce(0, +)
            for c in 0..<e {
                var acc = 0.0
                for j in 0..<n { acc += w[j] / total * v[vi * n * e + j * e + c] }
                out.append(acc)
            }
        }
    }
    return out
}

/// The chain's output fused and node by node (runs keeping intermediates never fuse), in both precisions.
private func bothWays(_ example: AttentionCase, _ feeds: [String: Tensor], precision: Precision) throws -> (fused: [Double], separate: [Double]) {
    let interpreter = try Interpreter(graph: example.graph(), precision: precision)
    let fused = try #require(try interpreter.run(feeds)["y"]).doubleValues()
    let separate = try #require(try interpreter.run(feeds, keepingIntermediates: true)["y"]).doubleValues()
    return (fused, separate)
}

// Odd sizes, several row blocks (n = 600: 24 rows a block, so 50 rows are 24 + 24 + 2), K and V
// broadcast over batch axes, MobileViT's three stage shapes (heads 16, 20, 24 wide: the narrow P·V
// kernel), a head too wide for it (40: the packed GEMM), and one head.
@Test(arguments: [
    ([2, 3, 13, 5], [2, 3, 5, 37], [2, 3, 37, 7]),
    ([2, 50, 3], [2, 3, 600], [2, 600, 9]),
    ([2, 3, 11, 4], [3, 4, 19], [19, 6]),
    ([1, 4, 256, 16], [1, 4, 16, 256], [1, 4, 256, 16]),
    ([2, 4, 64, 20], [2, 4, 20, 64], [2, 4, 64, 20]),
    ([2, 4, 16, 24], [2, 4, 24, 16], [2, 4, 16, 24]),
    ([2, 21, 4], [2, 4, 30], [2, 30, 40]),
    ([9, 2], [2, 9], [9, 1]),
])
func attentionChainIsBitIdenticalToItsThreeNodes(q: [Int], k: [Int], v: [Int]) throws {
    guard gk_gemm_available() else { return }  // the chain is fused only where the packed GEMM runs
    let example = AttentionCase(q: q, k: k, v: v)
    #expect(try example.fuses())
    let feeds = try example.feeds(seed: UInt64(q.reduce(1, *) + v.reduce(5, *)))
    let expected = try reference(example, feeds)
    for precision in Precision.allCases {
        let (fused, separate) = try bothWays(example, feeds, precision: precision)
        #expect(sameValues(fused, separate), "\(precision): fused and unfused differ")
        let difference = relativeDifference(fused, expected)
        #expect(difference < (precision == .float64 ? 1e-12 : 1e-5), "\(precision): \(difference) from the reference")
    }
}

@Test func attentionChainKeepsNaNAndInfinityAsTheNodesDo() throws {
    guard gk_gemm_available() else { return }
    let example = AttentionCase(q: [2, 19, 3], k: [2, 3, 29], v: [2, 29, 5])
    let feeds = try example.feeds(seed: 3, special: true)
    for precision in Precision.allCases {
        let (fused, separate) = try bothWays(example, feeds, precision: precision)
        #expect(sameValues(fused, separate))
        // Row 0 of head 0 has a NaN score everywhere: its softmax and output are NaN.
        #expect(fused[0..<5].allSatisfy { $0.isNaN })
        // The last row of head 1 has −inf·x scores (±inf, NaN where x = 0 is absent): NaN too.
        #expect(fused[(2 * 19 - 1) * 5..<(2 * 19) * 5].allSatisfy { $0.isNaN })
        // Head 1's first row has no special value: finite.
        #expect(fused[19 * 5..<20 * 5].allSatisfy { $0.isFinite })
    }
}

// Softmax over another axis, opset 11's default axis (1: the trailing axes together), a score or
// probability tensor read elsewhere: not fused, or fused but run node by node; same results.
@Test func attentionChainFallsBackWhereTheNodesDifferFromTheFusedLoop() throws {
    guard gk_gemm_available() else { return }
    let shapes = (q: [2, 7, 3], k: [2, 3, 9], v: [2, 9, 4])
    let cases = [
        AttentionCase(q: shapes.q, k: shapes.k, v: shapes.v, axis: 1),
        AttentionCase(q: shapes.q, k: shapes.k, v: shapes.v, opset: 11),
        AttentionCase(q: shapes.q, k: shapes.k, v: shapes.v, axis: 2, opset: 11),
        AttentionCase(q: shapes.q, k: shapes.k, v: shapes.v, scoresAreOutput: true),
        AttentionCase(q: shapes.q, k: shapes.k, v: shapes.v, probabilitiesReadTwice: true),
    ]
    let fused = try cases.map { try $0.fuses() }
    #expect(fused == [true, true, true, false, false])
    for example in cases {
        let feeds = try example.feeds(seed: 11)
        for precision in Precision.allCases {
            let (fused, separate) = try bothWays(example, feeds, precision: precision)
            #expect(sameValues(fused, separate), "axis \(String(describing: example.axis)) opset \(example.opset)")
        }
    }
    // The last axis (opset 11, axis 2) is the plain attention: the reference applies.
    let last = cases[2], feeds = try last.feeds(seed: 11)
    #expect(relativeDifference(try bothWays(last, feeds, precision: .float64).fused, try reference(last, feeds)) < 1e-12)
}

@Test func attentionChainReportsTheNodesErrors() throws {
    guard gk_gemm_available() else { return }
    // K's rows do not match Q's columns: the first MatMul's error, naming it.
    let example = AttentionCase(q: [2, 7, 3], k: [2, 4, 9], v: [2, 9, 4])
    let interpreter = try Interpreter(graph: example.graph(), precision: .float32)
    var random = SeededRandom(seed: 1)
    let feeds = ["q": try f32(random.values(42).map(Float.init), [2, 7, 3]), "k": try f32(random.values(72).map(Float.init), [2, 4, 9]),
                 "v": try f32(random.values(72).map(Float.init), [2, 9, 4])]
    let error = #expect(throws: InterpreterError.self) { try interpreter.run(feeds) }
    guard case .invalidNode(let node, _, _)? = error else {
        Issue.record("expected invalidNode, got \(String(describing: error))")
        return
    }
    #expect(node == "scores")
    // An out-of-range Softmax axis: the Softmax's typed error.
    let badAxis = AttentionCase(q: [2, 7, 3], k: [2, 3, 9], v: [2, 9, 4], axis: 5)
    let feeds2 = try badAxis.feeds(seed: 2)
    #expect(throws: InterpreterError.self) { try Interpreter(graph: badAxis.graph(), precision: .float32).run(feeds2) }
}

// The narrow P·V kernel on its own: every element the k-ordered FMA chain from +0 (what the
// packed GEMM computes), for each tile shape (12 × 8, 6 × 16, 4 × 24 and their masked widths),
// rows that leave single-row tails, row strides wider than k, and a NaN and an infinity.
@Test(arguments: [1, 5, 8, 13, 16, 20, 24])
func narrowAttentionProductIsTheFMAChainOfEachElement(width: Int) throws {
    guard gk_attention_narrow_available() else { return }
    let (rows, k, ldp, ldo) = (29, 37, 41, width + 3)
    var random = SeededRandom(seed: UInt64(width))
    var p = random.values(rows * ldp).map { Float($0) }
    let v = random.values(k * width).map { Float($0) }
    p[3 * ldp + 4] = .nan
    p[17 * ldp + 36] = .infinity
    var out = [Float](repeating: 42, count: rows * ldo)
    gk_attention_narrow_f32(p, ldp, rows, k, v, width, width, &out, ldo)
    for r in 0..<rows {
        for c in 0..<ldo {
            guard c < width else {
                #expect(out[r * ldo + c] == 42, "column \(c) past the width was written")
                continue
            }
            var acc: Float = 0
            for j in 0..<k { acc = acc.addingProduct(p[r * ldp + j], v[j * width + c]) }
            let value = out[r * ldo + c]
            #expect(acc.isNaN ? value.isNaN : value.bitPattern == acc.bitPattern, "row \(r) column \(c): \(value) vs \(acc)")
        }
    }
    #expect(out[3 * ldo].isNaN)
    #expect(out[17 * ldo].isInfinite || out[17 * ldo].isNaN)
}
