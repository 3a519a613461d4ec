import CKernels
import Foundation
import GhostInterpreter
import GhostIR
import Testing
import TestSupport

// The float32 exp and erf of CKernels' math.c (float32 polynomials, 8 lanes on AVX2) against
// double-precision libm on millions of points, and the exported GELU chain (Div → Erf → Add →
// Mul → Mul) that the plan runs as one step, against the five nodes run one by one.

/// |got − exact| in ulps of the exact value's binade (float32: 2⁻²³ relative to its power of two;
/// subnormals by their fixed spacing).
private func ulpError(_ got: Float, _ exact: Double) -> Double {
    let magnitude = abs(exact)
    let spacing = magnitude < Double(Float.leastNormalMagnitude) ? Double(Float.leastNonzeroMagnitude)
        : Double(sign: .plus, exponent: magnitude.exponent - 23, significand: 1)
    return abs(Double(got) - exact) / spacing
}

/// A float32 spread over every magnitude `bits` reaches: 2⁻⁴⁰ to `limit`, either sign, from a
/// 64-bit LCG (the same points on every run).
private struct SpreadFloats {
    var state: UInt64
    mutating func next(limit: Float) -> Float {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        let uniform = Float(state >> 40) / Float(1 << 24)
        let sign: Float = state & 1 == 0 ? 1 : -1
        // Half the points uniform over (−limit, limit), half log-uniform toward zero.
        if state & 2 == 0 { return sign * uniform * limit }
        return sign * limit * Float(exp2(-40 * Double(uniform)))
    }
}

private func mathF32(_ function: Int32, _ x: [Float]) -> [Float] {
    [Float](unsafeUninitializedCapacity: x.count) { out, count in
        x.withUnsafeBufferPointer { gk_math_f32(function, out.baseAddress!, $0.baseAddress!, $0.count) }
        count = x.count
    }
}

@Test func float32ErfStaysWithinOnePointTwoUlpsOnMillionsOfPoints() {
    var random = SpreadFloats(state: 2026)
    let x = (0..<2_000_000).map { _ in random.next(limit: 5) }
    let y = mathF32(Int32(GK_MATH_ERF), x)
    var worst = 0.0, withinHalf = 0
    for (value, result) in zip(x, y) {
        let error = ulpError(result, erf(Double(value)))
        worst = max(worst, error)
        if error <= 0.5 { withinHalf += 1 }
        // The sign of erf is x's, exactly: an odd function.
        #expect(result.sign == value.sign || result == 0, "erf(\(value)) = \(result)")
    }
    #expect(worst <= 1.2, "worst erf error \(worst) ulp")
    #expect(Double(withinHalf) >= 0.95 * Double(x.count), "\(withinHalf) of \(x.count) within half an ulp")
    // The largest error measured over every 61st float32 (1.18 ulp just below the split at 1).
    #expect(ulpError(mathF32(Int32(GK_MATH_ERF), [0x1.ff869p-1])[0], erf(Double(Float(0x1.ff869p-1)))) <= 1.2)
}

@Test func float32ErfKeepsZerosInfinitiesAndNaN() {
    let specials: [Float] = [0, -0.0, .infinity, -.infinity, .nan, 3.92, 4, 4.5, 1e30, -1e30, Float.leastNonzeroMagnitude,
                             -Float.leastNonzeroMagnitude, 1, -1]
    let y = mathF32(Int32(GK_MATH_ERF), specials)
    #expect(y[0] == 0 && y[0].sign == .plus)
    #expect(y[1] == 0 && y[1].sign == .minus)
    #expect(y[2] == 1 && y[3] == -1 && y[4].isNaN)
    #expect(y[6] == 1 && y[7] == 1 && y[8] == 1 && y[9] == -1)  // erfc(4) is under half an ulp of 1
    #expect(ulpError(y[5], erf(3.92)) <= 1)
    // erf(x) ≈ 2x/√π for tiny x: the smallest subnormal times 1.128 rounds back to itself.
    #expect(y[10] == Float.leastNonzeroMagnitude && y[11] == -Float.leastNonzeroMagnitude)
    #expect(ulpError(y[12], erf(1.0)) <= 1 && y[13] == -y[12])
}

@Test func float32ExpStaysWithinOnePointTwoFiveUlpsIncludingSubnormals() {
    var random = SpreadFloats(state: 7)
    // (−104, 89): results from the subnormals (below e^−87.3) to the largest float32.
    var x = (0..<1_000_000).map { _ in random.next(limit: 88) }
    x += (0..<100_000).map { i in -87 - 17 * Float(i) / 100_000 }
    let y = mathF32(Int32(GK_MATH_EXP), x)
    var worst = 0.0
    for (value, result) in zip(x, y) {
        let exact = exp(Double(value))
        if Float(exact) == 0 { continue }  // rounds to 0 (below half the smallest subnormal)
        worst = max(worst, ulpError(result, exact))
    }
    #expect(worst <= 1.25, "worst exp error \(worst) ulp")
    let specials: [Float] = [0, -0.0, .infinity, -.infinity, .nan, 88.72, 88.73, 100, -104, -110, -1e30, 1e30]
    let s = mathF32(Int32(GK_MATH_EXP), specials)
    #expect(s[0] == 1 && s[1] == 1 && s[2] == .infinity && s[3] == 0 && s[4].isNaN)
    #expect(s[5].isFinite && s[5] > 3.3e38)
    #expect(s[6] == .infinity && s[7] == .infinity && s[11] == .infinity)
    #expect(s[8] == 0 && s[9] == 0 && s[10] == 0)  // e^−104 ≈ 6.8e−46 is under half the smallest subnormal
}

/// x → Div(x, a) → Erf → Add(·, b) → Mul(x, ·) → Mul(·, c) → y, as torch.onnx writes nn.GELU (a = √2,
/// b = 1, c = 0.5), with operand orders chosen by `swapped`; `exposed` also makes the Erf output a
/// graph output (then nothing may be fused).
private func geluGraph(a: Float = 1.4142135, b: Float = 1, c: Float = 0.5, swapped: Bool = false, exposed: Bool = false,
                       count: Int, type: ElementType = .float32) throws -> Graph {
    var initializers = InitializerTable()
    initializers["a"] = try Tensor(float32: [a], shape: [])
    initializers["b"] = try Tensor(float32: [b], shape: [])
    initializers["c"] = try Tensor(float32: [c], shape: [])
    let nodes = [
        Node(name: "div", opType: "Div", inputs: ["x", "a"], outputs: ["d"]),
        Node(name: "erf", opType: "Erf", inputs: ["d"], outputs: ["e"]),
        Node(name: "add", opType: "Add", inputs: swapped ? ["b", "e"] : ["e", "b"], outputs: ["s"]),
        Node(name: "mul", opType: "Mul", inputs: swapped ? ["s", "x"] : ["x", "s"], outputs: ["m"]),
        Node(name: "half", opType: "Mul", inputs: swapped ? ["c", "m"] : ["m", "c"], outputs: ["y"]),
    ]
    return Graph(inputs: [Value(name: "x", elementType: type, shape: [.fixed(count)])],
                 outputs: [Value(name: "y")] + (exposed ? [Value(name: "e")] : []), initializers: initializers,
                 nodes: nodes, opsetImports: [OpsetImport(domain: "", version: 17)])
}

private func geluInputs(_ count: Int) -> [Float] {
    var random = SpreadFloats(state: 99)
    var x = (0..<count).map { _ in random.next(limit: 9) }
    x += [0, -0.0, .infinity, -.infinity, .nan, 1, -1, 3.99, -4.01, 1e-38, -1e30]
    return x
}

@Test(arguments: [false, true])
func exportedGeluChainRunsAsOneStepWithTheSameBits(swapped: Bool) throws {
    let x = geluInputs(1000 - 11 + 3)  // odd: not a multiple of the vector width
    for precision in Precision.allCases {
        let interpreter = try Interpreter(graph: try geluGraph(swapped: swapped, count: x.count), precision: precision)
        #expect(interpreter.nodesFusedIntoGelus == 4, "\(precision)")
        let feeds = ["x": try f32(x, [x.count])]
        let fused = try #require(try interpreter.run(feeds)["y"]).doubleValues()
        let separate = try #require(try interpreter.run(feeds, keepingIntermediates: true)["y"]).doubleValues()
        #expect(fused.count == x.count)
        for (index, (u, v)) in zip(fused, separate).enumerated() {
            if u.isNaN || v.isNaN {
                #expect(u.isNaN && v.isNaN, "\(precision) x = \(x[index])")
            } else {
                #expect(u.bitPattern == v.bitPattern, "\(precision) x = \(x[index]): fused \(u), node by node \(v)")
            }
        }
        // And it is GELU: 0.5·x·(1 + erf(x/√2)), absolutely for large negative x where 1 + erf cancels.
        for (value, result) in zip(x, fused) where value.isFinite {
            let v = Double(value), exact = 0.5 * v * (1 + erf(v / 2.0.squareRoot()))
            #expect(abs(result - exact) <= 1e-6 * max(1, abs(exact)), "\(precision) gelu(\(value)) = \(result), expected \(exact)")
        }
        let tail = Array(fused.suffix(11))
        #expect(tail[2] == .infinity && tail[3].isNaN && tail[4].isNaN)  // −inf·(1 + erf(−inf)) = −inf·0
        #expect(tail[0] == 0 && tail[1] == 0)
    }
}

@Test func geluChainWithOtherConstantsIsStillTheFiveNodes() throws {
    // The chain is fused for any scalar constants: the same steps, whatever their values.
    let x = geluInputs(37)
    let interpreter = try Interpreter(graph: try geluGraph(a: 0.75, b: -0.25, c: 3, count: x.count))
    #expect(interpreter.nodesFusedIntoGelus == 4)
    let y = try #require(try interpreter.run(["x": try f32(x, [x.count])])["y"]).floats
    for (value, result) in zip(x, y) where value.isFinite {
        let v = Double(value), exact = v * (erf(v / 0.75) - 0.25) * 3
        #expect(abs(Double(result) - exact) <= 1e-6 * max(1, abs(exact)), "x = \(value): \(result) vs \(exact)")
    }
}

@Test func geluChainWithAnIntermediateOutputIsNotFused() throws {
    let x = geluInputs(20)
    let interpreter = try Interpreter(graph: try geluGraph(exposed: true, count: x.count))
    #expect(interpreter.nodesFusedIntoGelus == 0)
    let out = try interpreter.run(["x": try f32(x, [x.count])])
    let e = try #require(out["e"]).floats
    #expect(e.count == x.count && e[0...19].allSatisfy { abs($0) <= 1 })
}

@Test func geluChainOnIntegersFailsAsTheNodesDo() throws {
    let interpreter = try Interpreter(graph: try geluGraph(count: 3, type: .int64))
    #expect(interpreter.nodesFusedIntoGelus == 4)
    // The int64 x reaches Div with a float constant: the Div node's own typed error.
    expectInterpreterError("invalid-node") {
        _ = try interpreter.run(["x": try i64([1, 2, 3])])
    }
}
