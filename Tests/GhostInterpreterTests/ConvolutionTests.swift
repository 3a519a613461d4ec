import GhostInterpreter
import GhostIR
import Testing
import TestSupport

/// Conv by its definition, in Double: out[n][m][oy][ox] = b[m] + Σ over the group's input
/// channels and kernel taps of x[n][c][oy·s − pad + ky·d][ox·s − pad + kx·d] · w[m][c'][ky][kx].
private func referenceConv(
    x: [Double], xShape: [Int], w: [Double], wShape: [Int], bias: [Double]?, group: Int,
    strides: [Int], dilations: [Int], pads: [Int]
) -> (values: [Double], shape: [Int]) {
    let (n, c, h, wd) = (xShape[0], xShape[1], xShape[2], xShape[3])
    let (m, cg, kh, kw) = (wShape[0], wShape[1], wShape[2], wShape[3])
    let oh = (h + pads[0] + pads[2] - dilations[0] * (kh - 1) - 1) / strides[0] + 1
    let ow = (wd + pads[1] + pads[3] - dilations[1] * (kw - 1) - 1) / strides[1] + 1
    let perGroup = m / group
    var out = [Double](repeating: 0, count: n * m * oh * ow)
    for b in 0..<n {
        for o in 0..<m {
            let g = o / perGroup
            for oy in 0..<oh {
                for ox in 0..<ow {
                    var sum = bias?[o] ?? 0
                    for i in 0..<cg {
                        let channel = g * cg + i
                        for ky in 0..<kh {
                            for kx in 0..<kw {
                                let iy = oy * strides[0] - pads[0] + ky * dilations[0]
                                let ix = ox * strides[1] - pads[1] + kx * dilations[1]
                                guard iy >= 0, iy < h, ix >= 0, ix < wd else { continue }
                                sum += x[((b * c + channel) * h + iy) * wd + ix] * w[((o * cg + i) * kh + ky) * kw + kx]
                            }
                        }
                    }
                    out[((b * m + o) * oh + oy) * ow + ox] = sum
                }
            }
        }
    }
    return (out, [n, m, oh, ow])
}

/// One convolution configuration for the sweep.
struct ConvCase: CustomTestStringConvertible, Sendable {
    var name: String
    var input: [Int]  // N, C, H, W
    var outputChannels: Int
    var kernel: [Int]
    var group = 1
    var strides = [1, 1]
    var dilations = [1, 1]
    var pads = [0, 0, 0, 0]
    var bias = true
    var testDescription: String { name }
}

private let convCases: [ConvCase] = [
    ConvCase(name: "3×3 plain", input: [1, 3, 7, 6], outputChannels: 4, kernel: [3, 3]),
    ConvCase(name: "1×1 pointwise (no im2col)", input: [2, 8, 5, 5], outputChannels: 6, kernel: [1, 1]),
    ConvCase(name: "1×1 stride 2", input: [1, 4, 7, 7], outputChannels: 3, kernel: [1, 1], strides: [2, 2]),
    ConvCase(name: "groups 2, stride 2, asymmetric pads", input: [2, 4, 9, 8], outputChannels: 6, kernel: [3, 3],
             group: 2, strides: [2, 2], pads: [1, 0, 2, 1]),
    ConvCase(name: "dilation 2 × 3, no bias", input: [1, 3, 10, 11], outputChannels: 2, kernel: [3, 2],
             dilations: [2, 3], pads: [2, 1, 0, 3], bias: false),
    ConvCase(name: "depthwise 3×3 stride 1", input: [2, 5, 8, 9], outputChannels: 5, kernel: [3, 3], group: 5, pads: [1, 1, 1, 1]),
    ConvCase(name: "depthwise 5×5 stride 2", input: [1, 4, 11, 10], outputChannels: 4, kernel: [5, 5], group: 4,
             strides: [2, 2], pads: [2, 2, 2, 2]),
    ConvCase(name: "depthwise stride 3, dilation 2, uneven pads", input: [1, 3, 13, 12], outputChannels: 3, kernel: [3, 3],
             group: 3, strides: [3, 3], dilations: [2, 2], pads: [0, 3, 2, 1]),
    ConvCase(name: "depthwise 3×3 stride 2, pads 0 1 1 0", input: [1, 3, 9, 10], outputChannels: 3, kernel: [3, 3], group: 3,
             strides: [2, 2], pads: [0, 1, 1, 0]),
    ConvCase(name: "depthwise 5×5 stride 1, wider than tall", input: [2, 2, 6, 17], outputChannels: 2, kernel: [5, 5], group: 2,
             pads: [2, 2, 2, 2]),
    ConvCase(name: "depthwise 5×5 on an image narrower than the kernel", input: [1, 2, 7, 4], outputChannels: 2, kernel: [5, 5],
             group: 2, pads: [2, 2, 2, 2]),
    ConvCase(name: "depthwise 3×3 stride 1 × 2, no padding", input: [1, 2, 5, 9], outputChannels: 2, kernel: [3, 3], group: 2,
             strides: [1, 2]),
    ConvCase(name: "depthwise multiplier 2", input: [1, 3, 6, 6], outputChannels: 6, kernel: [3, 3], group: 3, pads: [1, 1, 1, 1]),
    ConvCase(name: "strides 1 × 2, 1×7 kernel", input: [1, 2, 5, 12], outputChannels: 3, kernel: [1, 7], strides: [1, 2],
             pads: [0, 3, 0, 3]),
    // Depthwise 3×3/5×5 with equal strides computes rows shorter than 16 (and every stride-1
    // plane) as one long row; stride-2 rows of 16 or more outputs go row by row.
    ConvCase(name: "depthwise 3×3 stride 1 on 7×7 (one long row)", input: [1, 3, 7, 7], outputChannels: 3, kernel: [3, 3], group: 3,
             pads: [1, 1, 1, 1]),
    ConvCase(name: "depthwise 5×5 stride 2, batch 2, multiplier 2 (one long row)", input: [2, 2, 13, 14], outputChannels: 4,
             kernel: [5, 5], group: 2, strides: [2, 2], pads: [2, 2, 2, 2]),
    ConvCase(name: "depthwise 3×3 stride 2, 18 outputs wide (row by row)", input: [1, 2, 7, 36], outputChannels: 2, kernel: [3, 3],
             group: 2, strides: [2, 2], pads: [1, 1, 1, 1]),
    ConvCase(name: "depthwise 3×3 stride 2, 15 outputs wide, pads 0 (one long row)", input: [1, 2, 9, 31], outputChannels: 2,
             kernel: [3, 3], group: 2, strides: [2, 2]),
    ConvCase(name: "kernel larger than the input with padding", input: [1, 2, 2, 2], outputChannels: 2, kernel: [3, 3],
             pads: [1, 1, 1, 1]),
]

@Test(arguments: convCases)
func convolutionMatchesItsDefinition(_ testCase: ConvCase) throws {
    var random = SeededRandom(seed: UInt64(testCase.name.utf8.count * 7919))
    let wShape = [testCase.outputChannels, testCase.input[1] / testCase.group] + testCase.kernel
    let x = random.values(testCase.input.reduce(1, *))
    let w = random.values(wShape.reduce(1, *))
    let b = testCase.bias ? random.values(testCase.outputChannels) : nil
    let expected = referenceConv(x: x, xShape: testCase.input, w: w, wShape: wShape, bias: b, group: testCase.group,
                                 strides: testCase.strides, dilations: testCase.dilations, pads: testCase.pads)
    var constants = [("w", w, wShape)]
    if let b { constants.append(("b", b, [testCase.outputChannels])) }
    try expectBothPrecisions(
        "Conv", inputs: [("x", x, testCase.input)], constants: constants,
        attributes: [attribute("group", Int64(testCase.group)), attribute("strides", testCase.strides.map(Int64.init)),
                     attribute("dilations", testCase.dilations.map(Int64.init)), attribute("pads", testCase.pads.map(Int64.init)),
                     attribute("kernel_shape", testCase.kernel.map(Int64.init))],
        expected: expected.values, shape: expected.shape)
}

@Test func convolutionByHand() throws {
    // x = 1…9 (3×3), w = [[1, 0], [0, −1]]: out[i][j] = x[i][j] − x[i+1][j+1] = −4 everywhere.
    let out = try runSingle("Conv", inputs: [("x", try f32((1...9).map(Float.init), [1, 1, 3, 3]))],
                            constants: [("w", try f32([1, 0, 0, -1], [1, 1, 2, 2]))])
    #expect(out.shape == [1, 1, 2, 2])
    #expect(out.floats == [-4, -4, -4, -4])
}

@Test func depthwiseStrideAsymmetricPadsByHand() throws {
    // Two channels, depthwise 1×1 kernels ×2 and ×3, stride 2, pads top/left 1, bottom/right 0:
    // output rows/columns −1 (padding: only the bias) and 1.
    let out = try runSingle(
        "Conv", inputs: [("x", try f32([1, 2, 3, 4, 10, 20, 30, 40], [1, 2, 2, 2]))],
        constants: [("w", try f32([2, 3], [2, 1, 1, 1])), ("b", try f32([0.5, -1], [2]))],
        attributes: [attribute("group", 2), attribute("strides", [2, 2]), attribute("pads", [1, 1, 0, 0])])
    #expect(out.shape == [1, 2, 2, 2])
    #expect(out.floats == [0.5, 0.5, 0.5, 8.5, -1, -1, -1, 119])  // 4·2 + 0.5 and 40·3 − 1
}

@Test(arguments: [("SAME_UPPER", [Float](arrayLiteral: 54, 45, 72, 54)), ("SAME_LOWER", [14, 30, 57, 99]), ("VALID", [54])])
func autoPadPlacesTheExtraPadding(mode: String, expected: [Float]) throws {
    // 4×4 input of 1…16, 3×3 ones kernel, stride 2. SAME needs one row and column of padding,
    // after the input (UPPER: windows start at 0, 2) or before it (LOWER: windows start at −1, 1);
    // VALID has one window, rows and columns 0…2: 1+2+3+5+6+7+9+10+11 = 54.
    let out = try runSingle("Conv", inputs: [("x", try f32((1...16).map(Float.init), [1, 1, 4, 4]))],
                            constants: [("w", try f32([Float](repeating: 1, count: 9), [1, 1, 3, 3]))],
                            attributes: [attribute("strides", [2, 2]), attribute("auto_pad", mode)])
    #expect(out.floats == expected)
    #expect(out.shape == [1, 1, expected.count == 1 ? 1 : 2, expected.count == 1 ? 1 : 2])
}

@Test func oneDimensionalConvolutionIsARow() throws {
    // x = [1, 2, 3, 4, 5], w = [1, 10], pads 1 each side, stride 2:
    // padded [0, 1, 2, 3, 4, 5, 0] → windows at 0, 2, 4: 0+10, 2+30, 4+50.
    let out = try runSingle("Conv", inputs: [("x", try f32([1, 2, 3, 4, 5], [1, 1, 5]))],
                            constants: [("w", try f32([1, 10], [1, 1, 2]))],
                            attributes: [attribute("strides", [2]), attribute("pads", [1, 1])])
    #expect(out.shape == [1, 1, 3])
    #expect(out.floats == [10, 32, 54])
}

@Test func convolutionRefusesWhatItCannotRun() throws {
    let x = try f32([Float](repeating: 1, count: 16), [1, 1, 4, 4])
    let w = try f32([Float](repeating: 1, count: 9), [1, 1, 3, 3])
    // A kernel that does not fit, even with a stride that would hide it in integer division.
    expectInterpreterError("invalid-node") {
        _ = try runSingle("Conv", inputs: [("x", try f32([1, 2], [1, 1, 1, 2]))], constants: [("w", w)],
                          attributes: [attribute("strides", [2, 2])])
    }
    expectInterpreterError("invalid-node") {  // bias of the wrong length
        _ = try runSingle("Conv", inputs: [("x", x)], constants: [("w", w), ("b", try f32([1, 2], [2]))])
    }
    expectInterpreterError("invalid-node") {  // groups that do not divide the channels
        _ = try runSingle("Conv", inputs: [("x", x)], constants: [("w", w)], attributes: [attribute("group", 2)])
    }
    expectInterpreterError("invalid-node") {  // zero stride
        _ = try runSingle("Conv", inputs: [("x", x)], constants: [("w", w)], attributes: [attribute("strides", [0, 1])])
    }
    expectInterpreterError("unsupported-attribute") {
        _ = try runSingle("Conv", inputs: [("x", x)], constants: [("w", w)], attributes: [attribute("auto_pad", "SAME_MIDDLE")])
    }
    expectInterpreterError("unsupported-attribute") {  // 3-D convolution
        _ = try runSingle("Conv", inputs: [("x", try f32([1], [1, 1, 1, 1, 1]))], constants: [("w", try f32([1], [1, 1, 1, 1, 1]))])
    }
}
