import GhostInterpreter
import GhostIR
import Testing
import TestSupport

// The padded-plane path for depthwise geometries other than the undilated 3×3/5×5/7×7 ones
// (dilated windows above all: MobileNetV3's 5×5 dilation-2 last stage in LR-ASPP and DeepLabV3).
// Its result must be the tap-by-tap sum exactly: each output 0 + w·x + w·x + … in (ky, kx) order,
// rounded after every operation, with the padding's taps included as zeros (a ±∞ or NaN weight
// over padding gives NaN, as ONNX Runtime's im2col does). The reference below is that loop,
// written out in the run's precision, and results are compared bit for bit.

private struct DilatedCase: CustomStringConvertible, Sendable {
    var input: [Int]  // N, C, H, W
    var multiplier = 1
    var kernel: [Int]
    var strides: [Int]
    var dilations: [Int]
    var pads: [Int]  // top, left, bottom, right
    var description: String { "in \(input) k \(kernel) s \(strides) d \(dilations) p \(pads) m \(multiplier)" }

    var outputSize: (Int, Int) {
        let h = (input[2] + pads[0] + pads[2] - (kernel[0] - 1) * dilations[0] - 1) / strides[0] + 1
        let w = (input[3] + pads[1] + pads[3] - (kernel[1] - 1) * dilations[1] - 1) / strides[1] + 1
        return (h, w)
    }
}

/// The definition, tap by tap in (ky, kx) order from +0, padding read as zero, in T's arithmetic.
private func reference<T: BinaryFloatingPoint>(_ x: [T], _ w: [T], _ c: DilatedCase) -> [T] {
    let (n, channels, h, wd) = (c.input[0], c.input[1], c.input[2], c.input[3])
    let (oh, ow) = c.outputSize
    let (kh, kw) = (c.kernel[0], c.kernel[1])
    let m = channels * c.multiplier
    var out = [T](repeating: 0, count: n * m * oh * ow)
    for b in 0..<n {
        for o in 0..<m {
            for oy in 0..<oh {
                for ox in 0..<ow {
                    var sum: T = 0
                    for ky in 0..<kh {
                        for kx in 0..<kw {
                            let iy = oy * c.strides[0] - c.pads[0] + ky * c.dilations[0]
                            let ix = ox * c.strides[1] - c.pads[1] + kx * c.dilations[1]
                            let inside = iy >= 0 && iy < h && ix >= 0 && ix < wd
                            let value = inside ? x[((b * channels + o / c.multiplier) * h + iy) * wd + ix] : 0
                            let product = w[(o * kh + ky) * kw + kx] * value
                            sum = sum + product
                        }
                    }
                    out[((b * m + o) * oh + oy) * ow + ox] = sum
                }
            }
        }
    }
    return out
}

private func sameBits<T: BinaryFloatingPoint>(_ a: T, _ b: T) -> Bool {
    (a.isNaN && b.isNaN) || (a == b && a.sign == b.sign)
}

/// Runs the case in both precisions and compares with the reference bit for bit.
private func check(_ c: DilatedCase, x: [Float], w: [Float], sourceLocation: SourceLocation = #_sourceLocation) throws {
    let channels = c.input[1] * c.multiplier
    let attributes = [attribute("group", Int64(c.input[1])), attribute("kernel_shape", c.kernel.map(Int64.init)),
                      attribute("strides", c.strides.map(Int64.init)), attribute("dilations", c.dilations.map(Int64.init)),
                      attribute("pads", c.pads.map(Int64.init))]
    let (oh, ow) = c.outputSize
    for precision in Precision.allCases {
        let out = try runSingle("Conv", inputs: [("x", try f32(x, c.input))],
                                constants: [("w", try f32(w, [channels, 1] + c.kernel))], attributes: attributes, precision: precision)
        #expect(out.shape == [c.input[0], channels, oh, ow], "\(c) \(precision)", sourceLocation: sourceLocation)
        let mismatches: Int
        if precision == .float64 {
            let expected = reference(x.map(Double.init), w.map(Double.init), c)
            mismatches = zip(out.doubles, expected).filter { !sameBits($0, $1) }.count
            #expect(out.doubles.count == expected.count, sourceLocation: sourceLocation)
        } else {
            let expected = reference(x, w, c)
            mismatches = zip(out.floats, expected).filter { !sameBits($0, $1) }.count
            #expect(out.floats.count == expected.count, sourceLocation: sourceLocation)
        }
        #expect(mismatches == 0, "\(c) \(precision): \(mismatches) outputs differ", sourceLocation: sourceLocation)
    }
}

private let cases: [DilatedCase] = [
    // LR-ASPP / DeepLabV3's last stage: 5×5, dilation 2, pads 4, rows of ≥ 16 outputs.
    DilatedCase(input: [1, 3, 18, 20], kernel: [5, 5], strides: [1, 1], dilations: [2, 2], pads: [4, 4, 4, 4]),
    // The same on short rows (the plane as one long row), batch 2 and multiplier 2.
    DilatedCase(input: [2, 2, 9, 7], multiplier: 2, kernel: [5, 5], strides: [1, 1], dilations: [2, 2], pads: [4, 4, 4, 4]),
    // Dilation 4, stride 2, asymmetric pads; rows long and short.
    DilatedCase(input: [1, 3, 37, 41], kernel: [3, 3], strides: [2, 2], dilations: [4, 4], pads: [4, 3, 2, 5]),
    DilatedCase(input: [1, 2, 13, 11], kernel: [3, 3], strides: [2, 2], dilations: [4, 4], pads: [1, 4, 3, 0]),
    // Dilation 8 on an image smaller than the dilated window (most taps read padding).
    DilatedCase(input: [1, 2, 6, 19], kernel: [3, 3], strides: [1, 1], dilations: [8, 8], pads: [8, 8, 8, 8]),
    // 7×7 dilated at stride 1 and 2; unequal strides (never one long row).
    DilatedCase(input: [1, 2, 20, 23], kernel: [7, 7], strides: [1, 1], dilations: [2, 2], pads: [6, 6, 6, 6]),
    DilatedCase(input: [1, 2, 21, 19], kernel: [7, 7], strides: [2, 1], dilations: [3, 2], pads: [2, 5, 7, 1]),
    // Windows the C loop takes one tap at a time: not square, square of another size, stride 3,
    // unequal dilations, no padding.
    DilatedCase(input: [1, 3, 15, 26], kernel: [3, 5], strides: [1, 2], dilations: [2, 3], pads: [2, 6, 2, 6]),
    DilatedCase(input: [1, 2, 17, 17], kernel: [4, 4], strides: [1, 1], dilations: [1, 1], pads: [1, 2, 2, 1]),
    DilatedCase(input: [1, 2, 30, 31], kernel: [3, 3], strides: [3, 3], dilations: [2, 1], pads: [0, 0, 0, 0]),
    DilatedCase(input: [1, 3, 8, 9], kernel: [1, 1], strides: [3, 2], dilations: [1, 1], pads: [0, 0, 0, 0]),
    DilatedCase(input: [2, 2, 10, 9], kernel: [2, 2], strides: [1, 1], dilations: [3, 3], pads: [0, 0, 0, 0]),
    // Pads so large against the stride that the plane would dwarf the image: the tap-by-tap loop.
    DilatedCase(input: [1, 2, 3, 3], kernel: [3, 3], strides: [50, 50], dilations: [1, 1], pads: [300, 300, 300, 300]),
]

@Test(arguments: cases)
private func dilatedDepthwiseMatchesTheTapByTapSumBitForBit(_ c: DilatedCase) throws {
    var random = SeededRandom(seed: UInt64(c.input.reduce(1, *) &* 31 &+ c.kernel[0] &* 7 &+ c.dilations[1]))
    let channels = c.input[1] * c.multiplier
    let x = (0..<c.input.reduce(1, *)).map { _ in Float(random.uniform(-2, 2)) }
    let w = (0..<channels * c.kernel[0] * c.kernel[1]).map { _ in Float(random.uniform(-1, 1)) }
    try check(c, x: x, w: w)
}

@Test(arguments: [cases[0], cases[1], cases[3], cases[7]])
private func dilatedDepthwiseSpreadsNaNAndInfinityLikeTheDefinition(_ c: DilatedCase) throws {
    var random = SeededRandom(seed: 5)
    let channels = c.input[1] * c.multiplier
    var x = (0..<c.input.reduce(1, *)).map { _ in Float(random.uniform(-2, 2)) }
    var w = (0..<channels * c.kernel[0] * c.kernel[1]).map { _ in Float(random.uniform(-1, 1)) }
    x[x.count / 3] = .nan
    x[x.count / 2] = .infinity
    x[x.count - 2] = -.infinity
    w[0] = .infinity  // the top-left tap reads padding for the first outputs: NaN there
    w[w.count - 1] = .nan  // every output of the last channel
    try check(c, x: x, w: w)
}

@Test func dilatedDepthwiseInfiniteWeightOverPaddingIsNaNAsInONNXRuntime() throws {
    // ONNX Runtime 1.32 on this graph (2 channels of ones, 6×6, 5×5 dilation 2 pads 4, w[0,0] = +∞,
    // other weights 0): NaN wherever the ∞ tap reads padding (output row or column < 4), +∞ elsewhere.
    let x = [Float](repeating: 1, count: 2 * 36)
    var w = [Float](repeating: 0, count: 2 * 25)
    w[0] = .infinity
    w[25] = .infinity
    let out = try runSingle("Conv", inputs: [("x", try f32(x, [1, 2, 6, 6]))], constants: [("w", try f32(w, [2, 1, 5, 5]))],
                            attributes: [attribute("group", 2), attribute("dilations", [2, 2]), attribute("pads", [4, 4, 4, 4])]).floats
    for channel in 0..<2 {
        for oy in 0..<6 {
            for ox in 0..<6 {
                let value = out[(channel * 6 + oy) * 6 + ox]
                if oy < 4 || ox < 4 {
                    #expect(value.isNaN, "(\(channel), \(oy), \(ox))")
                } else {
                    #expect(value == .infinity, "(\(channel), \(oy), \(ox))")
                }
            }
        }
    }
}

@Test func dilatedDepthwiseOneDimensional() throws {
    // NCW: 3 channels of 40, kernel 5, dilation 3, stride 2, pads 5 and 2, against the loop.
    var random = SeededRandom(seed: 9)
    let x = (0..<120).map { _ in Float(random.uniform(-1, 1)) }
    let w = (0..<15).map { _ in Float(random.uniform(-1, 1)) }
    let ow = (40 + 7 - 12 - 1) / 2 + 1
    var expected = [Float](repeating: 0, count: 3 * ow)
    for c in 0..<3 {
        for o in 0..<ow {
            var sum: Float = 0
            for k in 0..<5 {
                let i = o * 2 - 5 + k * 3
                sum = sum + w[c * 5 + k] * (i >= 0 && i < 40 ? x[c * 40 + i] : 0)
            }
            expected[c * ow + o] = sum
        }
    }
    let out = try runSingle("Conv", inputs: [("x", try f32(x, [1, 3, 40]))], constants: [("w", try f32(w, [3, 1, 5]))],
                            attributes: [attribute("group", 3), attribute("dilations", [3]), attribute("strides", [2]),
                                         attribute("pads", [5, 2])])
    #expect(out.shape == [1, 3, ow])
    #expect(zip(out.floats, expected).allSatisfy { sameBits($0, $1) })
}

@Test func dilatedDepthwiseWithBiasAndActivationEpilogue() throws {
    // The path writes every output (no zero fill), so the bias is added once: 5×5 dilation 2 on
    // ones with weights 1 gives the number of in-image taps, plus the bias.
    let x = [Float](repeating: 1, count: 8 * 8)
    let w = [Float](repeating: 1, count: 25)
    let out = try runSingle("Conv", inputs: [("x", try f32(x, [1, 1, 8, 8]))],
                            constants: [("w", try f32(w, [1, 1, 5, 5])), ("b", try f32([0.5], [1]))],
                            attributes: [attribute("group", 1), attribute("dilations", [2, 2]), attribute("pads", [4, 4, 4, 4])]).floats
    for oy in 0..<8 {
        for ox in 0..<8 {
            let rows = (0..<5).filter { (0..<8).contains(oy - 4 + 2 * $0) }.count
            let columns = (0..<5).filter { (0..<8).contains(ox - 4 + 2 * $0) }.count
            #expect(out[oy * 8 + ox] == Float(rows * columns) + 0.5, "(\(oy), \(ox))")
        }
    }
}
