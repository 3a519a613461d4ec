import Foundation
import GhostInterpreter
import GhostIR
import Testing
import TestSupport

// The fast paths the ViT hybrids (FastViT, RepViT, MobileViT) run through: float32 erf, sigmoid
// and GELU in C, Softmax and LayerNormalization row loops, and 7×7 depthwise windows. Each is
// checked against a plain loop written here, on odd sizes (not a multiple of the eight lanes) and
// with NaN and ±inf.

/// Distance in float32 ulps (0 for two NaNs or equal values, Int.max when one is NaN).
private func ulps(_ a: Float, _ b: Float) -> Int {
    if a.isNaN || b.isNaN { return a.isNaN && b.isNaN ? 0 : Int.max }
    func ordered(_ x: Float) -> Int { x.sign == .minus ? -Int(x.bitPattern & 0x7fff_ffff) : Int(x.bitPattern) }
    return abs(ordered(a) - ordered(b))
}

/// Values over the ranges where each function changes, plus tiny, huge and special ones.
private func probeValues() -> [Float] {
    var values: [Float] = []
    var random = SeededRandom(seed: 41)
    for _ in 0..<3001 { values.append(Float(random.value() * 6)) }  // about ±6·3
    values += [0, -0.0, 1e-30, -1e-30, Float.leastNonzeroMagnitude, 0.5, 0.999_999, 1, -1, 1.000_001, 3.9, 3.93, 4, -4.000_001, 10, -10,
               87, 88.7, 88.8, -87.5, -103, -104, -200, 200, .infinity, -.infinity, .nan]
    return values
}

@Test func float32ErfIsWithinTwoUlpsOfTheRoundedDoublePrecisionValue() throws {
    let x = probeValues()
    let out = try runSingle("Erf", inputs: [("x", try f32(x, [x.count]))]).floats
    for (value, result) in zip(x, out) {
        // At most 1.2 ulp from the exact value (VectorMathTests), so 2 from its rounding.
        let expected = Float(erf(Double(value)))
        #expect(ulps(result, expected) <= 2, "erf(\(value)) = \(result), expected \(expected)")
    }
    #expect(out[x.count - 1].isNaN)
    #expect(out[x.count - 3] == 1 && out[x.count - 2] == -1)
    #expect(out[3001 + 1].sign == .minus && out[3001 + 1] == 0)  // erf(−0) = −0
    // float64 keeps libm's erf, exactly.
    let wide = try runSingle("Erf", inputs: [("x", try f32(x, [x.count]))], precision: .float64).doubles
    #expect(zip(x, wide).allSatisfy { erf(Double($0)) == $1 || ($1.isNaN && $0.isNaN) })
}

@Test func float32SigmoidFollowsItsFormula() throws {
    let x = probeValues()
    let out = try runSingle("Sigmoid", inputs: [("x", try f32(x, [x.count]))]).floats
    // Below −88, e^(−x) overflows float32 and the quotient is 0 (the float32 formula's value).
    for (value, result) in zip(x, out) where abs(value) < 80 {
        // 1/(1 + e^(−x)) in float32 steps after a float32 e^(−x): at most an ulp or two from
        // the double-precision value where e^(−x) is large.
        let expected = Float(1 / (1 + exp(-Double(value))))
        #expect(ulps(result, expected) <= 3, "sigmoid(\(value)) = \(result), expected \(expected)")
    }
    #expect(out[x.count - 3] == 1 && out[x.count - 2] == 0 && out[x.count - 1].isNaN)
    #expect(out[x.count - 4] == 1 && out[x.count - 5] == 0)  // sigmoid(200), sigmoid(−200)
}

@Test func float32GeluErfFormMatchesItsDefinition() throws {
    let x = probeValues()
    let out = try runSingle("Gelu", inputs: [("x", try f32(x, [x.count]))], opset: 20).floats
    for (value, result) in zip(x, out) where value.isFinite {
        let v = Double(value)
        let expected = 0.5 * v * (1 + erf(v / 2.0.squareRoot()))
        // 1 + erf cancels for large negative x: compare absolutely there.
        #expect(abs(Double(result) - expected) <= 1e-6 * max(1, abs(expected)), "gelu(\(value)) = \(result), expected \(expected)")
    }
    #expect(out[x.count - 3] == .infinity && out[x.count - 1].isNaN)
    try expectBothPrecisions("Gelu", inputs: [("x", [-3, -0.5, 0, 0.25, 2.5], [5])], opset: 20,
                             expected: [-3, -0.5, 0, 0.25, 2.5].map { 0.5 * $0 * (1 + erf($0 / 2.0.squareRoot())) }, shape: [5],
                             float32Tolerance: 1e-6)
}

@Test func softmaxRowsOfOddLengthAndSpecialValues() throws {
    var random = SeededRandom(seed: 7)
    let (rows, size) = (5, 19)
    let x = random.values(rows * size).map { $0 * 5 }
    var expected = x
    for r in 0..<rows {
        let row = x[(r * size)..<((r + 1) * size)]
        let peak = row.max()!
        let total = row.map { exp($0 - peak) }.reduce(0, +)
        for s in 0..<size { expected[r * size + s] = exp(x[r * size + s] - peak) / total }
    }
    try expectBothPrecisions("Softmax", inputs: [("x", x, [rows, size])], opset: 13, expected: expected, shape: [rows, size],
                             float32Tolerance: 1e-6)
    // A row with NaN, one with +inf and one of −inf come out all NaN; a row with −inf and finite
    // values gives 0 there; a huge spread keeps the maximum at 1.
    let inf = Double.infinity
    let special: [Double] = [1, .nan, 2, 3, inf, 4, -inf, -inf, -inf, -inf, 0, 0, 1000, 0, -1000]
    for precision in Precision.allCases {
        let out = try runSingle("Softmax", inputs: [("x", try f32(special.map { Float($0) }, [5, 3]))], precision: precision)
        let values = precision == .float64 ? out.doubles : out.floats.map(Double.init)
        #expect(values[0..<9].allSatisfy { $0.isNaN }, "\(precision): \(values)")
        #expect(values[9..<12] == [0, 0.5, 0.5], "\(precision): \(values)")
        #expect(values[12..<15] == [1, 0, 0], "\(precision): \(values)")
    }
}

@Test func layerNormalizationRowsMatchTheDefinition() throws {
    var random = SeededRandom(seed: 11)
    let (rows, size) = (6, 13)
    let x = random.values(rows * size).map { $0 * 3 + 1 }
    let gamma = random.values(size), beta = random.values(size)
    let epsilon = Double(Float(1e-5))
    var y = x, means: [Double] = [], inverses: [Double] = []
    for r in 0..<rows {
        let row = Array(x[(r * size)..<((r + 1) * size)])
        let mean = row.reduce(0, +) / Double(size)
        let variance = row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(size)
        let inverse = 1 / (variance + epsilon).squareRoot()
        means.append(mean)
        inverses.append(inverse)
        for s in 0..<size { y[r * size + s] = (row[s] - mean) * inverse * gamma[s] + beta[s] }
    }
    try expectBothPrecisions("LayerNormalization", inputs: [("x", x, [2, 3, size])], constants: [("g", gamma, [size]), ("b", beta, [size])],
                             expected: y, shape: [2, 3, size])
    for precision in Precision.allCases {
        let outs = try runNode("LayerNormalization", inputs: [("x", try f32(x.map { Float($0) }, [2, 3, size]))],
                               constants: [("g", try f32(gamma.map { Float($0) }, [size]))], outputs: 3, precision: precision)
        let tolerance = precision == .float64 ? 1e-12 : 1e-5
        func values(_ t: Tensor) -> [Double] { precision == .float64 ? t.doubles : t.floats.map(Double.init) }
        #expect(outs[1].shape == [2, 3, 1] && outs[2].shape == [2, 3, 1])
        #expect(relativeDifference(values(outs[1]), means) <= tolerance)
        #expect(relativeDifference(values(outs[2]), inverses) <= tolerance)
    }
    // A NaN poisons its row only.
    var poisoned = x.map { Float($0) }
    poisoned[size + 4] = .nan
    let out = try runSingle("LayerNormalization", inputs: [("x", try f32(poisoned, [rows, size]))],
                            constants: [("g", try f32(gamma.map { Float($0) }, [size]))]).floats
    #expect(out[size..<(2 * size)].allSatisfy { $0.isNaN })
    #expect(out[0..<size].allSatisfy { !$0.isNaN } && out[(2 * size)...].allSatisfy { !$0.isNaN })
}

/// Depthwise convolution by its definition, in Double (one input channel per group).
private func referenceDepthwise(_ x: [Double], _ shape: [Int], _ w: [Double], kernel: Int, multiplier: Int, stride: Int,
                                pads: [Int]) -> (values: [Double], shape: [Int]) {
    let (n, c, h, wd) = (shape[0], shape[1], shape[2], shape[3])
    let oh = (h + pads[0] + pads[2] - kernel) / stride + 1, ow = (wd + pads[1] + pads[3] - kernel) / stride + 1
    let m = c * multiplier
    var out = [Double](repeating: 0, count: n * m * oh * ow)
    for b in 0..<n {
        for o in 0..<m {
            for oy in 0..<oh {
                for ox in 0..<ow {
                    var sum = 0.0
                    for ky in 0..<kernel {
                        for kx in 0..<kernel {
                            let iy = oy * stride - pads[0] + ky, ix = ox * stride - pads[1] + kx
                            guard iy >= 0, iy < h, ix >= 0, ix < wd else { continue }
                            sum += x[((b * c + o / multiplier) * h + iy) * wd + ix] * w[(o * kernel + ky) * kernel + kx]
                        }
                    }
                    out[((b * m + o) * oh + oy) * ow + ox] = sum
                }
            }
        }
    }
    return (out, [n, m, oh, ow])
}

@Test(arguments: [
    // (input N, C, H, W; multiplier; stride; pads): FastViT's 7×7 stride 1 and 2, a plane computed
    // as one long row (outputs < 16 wide) and one row by row, asymmetric and no padding.
    ([1, 3, 9, 11], 1, 1, [3, 3, 3, 3]),
    ([2, 2, 13, 40], 1, 2, [3, 3, 3, 3]),
    ([1, 2, 15, 15], 2, 2, [3, 3, 3, 3]),
    ([1, 2, 10, 12], 1, 1, [0, 2, 3, 1]),
    ([1, 1, 8, 7], 1, 1, [0, 0, 0, 0]),
    ([1, 2, 5, 4], 1, 1, [3, 3, 3, 3]),
])
func depthwiseSevenBySevenMatchesTheDefinition(input: [Int], multiplier: Int, stride: Int, pads: [Int]) throws {
    var random = SeededRandom(seed: UInt64(input.reduce(1, *) + stride))
    let channels = input[1] * multiplier
    let x = random.values(input.reduce(1, *)), w = random.values(channels * 49)
    let expected = referenceDepthwise(x, input, w, kernel: 7, multiplier: multiplier, stride: stride, pads: pads)
    try expectBothPrecisions("Conv", inputs: [("x", x, input)], constants: [("w", w, [channels, 1, 7, 7])],
                             attributes: [attribute("group", Int64(input[1])), attribute("strides", [Int64(stride), Int64(stride)]),
                                          attribute("pads", pads.map(Int64.init))],
                             expected: expected.values, shape: expected.shape)
}

@Test func depthwiseSevenBySevenPropagatesNaNAndInfinity() throws {
    // A NaN reaches exactly the outputs whose window covers it; +inf with a zero weight is NaN.
    var x = [Float](repeating: 1, count: 9 * 9)
    x[4 * 9 + 4] = .nan
    let w = [Float](repeating: 0.5, count: 49)
    let out = try runSingle("Conv", inputs: [("x", try f32(x, [1, 1, 9, 9]))], constants: [("w", try f32(w, [1, 1, 7, 7]))],
                            attributes: [attribute("group", 1), attribute("pads", [3, 3, 3, 3])]).floats
    for oy in 0..<9 {
        for ox in 0..<9 {
            let covered = abs(oy - 4) <= 3 && abs(ox - 4) <= 3
            #expect(out[oy * 9 + ox].isNaN == covered, "(\(oy), \(ox))")
        }
    }
    #expect(out[0] == 0.5 * 16)  // the corner window holds 4×4 ones
    var infinite = [Float](repeating: 0, count: 7 * 7)
    infinite[0] = .infinity
    var zeroFirst = w
    zeroFirst[0] = 0
    let product = try runSingle("Conv", inputs: [("x", try f32(infinite, [1, 1, 7, 7]))], constants: [("w", try f32(zeroFirst, [1, 1, 7, 7]))],
                                attributes: [attribute("group", 1)]).floats
    #expect(product.count == 1 && product[0].isNaN)
}
