import GhostInterpreter
import GhostIR
import Testing
import TestSupport

/// One pooling configuration for the sweep.
struct PoolCase: CustomTestStringConvertible, Sendable {
    var name: String
    var input: [Int]  // N, C, H, W
    var kernel: [Int]
    var strides = [1, 1]
    var dilations = [1, 1]
    var pads = [0, 0, 0, 0]
    var ceil = false
    var countPadding = false
    var testDescription: String { name }
}

/// Pooling by its definition, in Double. Output size floor (or ceil) of
/// (size + pads − dilation·(k − 1) − 1) / stride + 1, minus a last ceil-mode window starting in
/// the end padding. Average divides by the in-image taps, or with count_include_pad by the taps
/// inside the padded extent (−pad_begin ..< size + pad_end).
private func referencePool(_ x: [Double], _ c: PoolCase, maximum: Bool) -> (values: [Double], shape: [Int]) {
    let (h, w) = (c.input[2], c.input[3])
    func outputSize(_ axis: Int, _ size: Int) -> Int {
        let span = size + c.pads[axis] + c.pads[axis + 2] - c.dilations[axis] * (c.kernel[axis] - 1) - 1
        var count = (c.ceil ? Int((Double(span) / Double(c.strides[axis])).rounded(.up)) : span / c.strides[axis]) + 1
        if c.ceil, (count - 1) * c.strides[axis] >= size + c.pads[axis] { count -= 1 }
        return count
    }
    let (oh, ow) = (outputSize(0, h), outputSize(1, w))
    var out: [Double] = []
    for plane in 0..<(c.input[0] * c.input[1]) {
        for oy in 0..<oh {
            for ox in 0..<ow {
                var taps: [Double] = [], extent = 0
                for ky in 0..<c.kernel[0] {
                    for kx in 0..<c.kernel[1] {
                        let iy = oy * c.strides[0] - c.pads[0] + ky * c.dilations[0]
                        let ix = ox * c.strides[1] - c.pads[1] + kx * c.dilations[1]
                        if iy < h + c.pads[2], ix < w + c.pads[3] { extent += 1 }
                        if iy >= 0, iy < h, ix >= 0, ix < w { taps.append(x[(plane * h + iy) * w + ix]) }
                    }
                }
                out.append(maximum ? taps.max() ?? -.infinity : taps.reduce(0, +) / Double(c.countPadding ? extent : taps.count))
            }
        }
    }
    return (out, [c.input[0], c.input[1], oh, ow])
}

private let poolCases: [PoolCase] = [
    PoolCase(name: "3×3 stride 2 (MobileNet stem)", input: [1, 2, 9, 9], kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1]),
    PoolCase(name: "2×2 stride 2 ceil_mode on odd size", input: [2, 3, 7, 5], kernel: [2, 2], strides: [2, 2], ceil: true),
    PoolCase(name: "3×3 stride 2 ceil, asymmetric pads", input: [1, 2, 8, 10], kernel: [3, 3], strides: [2, 2],
             pads: [1, 0, 0, 1], ceil: true),
    PoolCase(name: "count_include_pad with ceil_mode", input: [1, 1, 6, 7], kernel: [3, 3], strides: [2, 2],
             pads: [1, 1, 1, 1], ceil: true, countPadding: true),
    PoolCase(name: "count_include_pad, pads 2", input: [1, 2, 5, 5], kernel: [5, 5], pads: [2, 2, 2, 2], countPadding: true),
    PoolCase(name: "dilation 2, rectangular kernel", input: [1, 2, 9, 8], kernel: [2, 3], strides: [1, 2], dilations: [2, 2]),
]

@Test(arguments: poolCases)
func poolingMatchesItsDefinition(_ testCase: PoolCase) throws {
    var random = SeededRandom(seed: UInt64(testCase.name.utf8.count))
    let x = random.values(testCase.input.reduce(1, *))
    var attributes = [attribute("kernel_shape", testCase.kernel.map(Int64.init)), attribute("strides", testCase.strides.map(Int64.init)),
                      attribute("pads", testCase.pads.map(Int64.init)), attribute("ceil_mode", testCase.ceil ? 1 : 0)]
    if testCase.dilations != [1, 1] { attributes.append(attribute("dilations", testCase.dilations.map(Int64.init))) }
    let max = referencePool(x, testCase, maximum: true)
    try expectBothPrecisions("MaxPool", inputs: [("x", x, testCase.input)], attributes: attributes, opset: 12,
                             expected: max.values, shape: max.shape, float32Tolerance: 0)
    let average = referencePool(x, testCase, maximum: false)
    try expectBothPrecisions("AveragePool", inputs: [("x", x, testCase.input)],
                             attributes: attributes + [attribute("count_include_pad", testCase.countPadding ? 1 : 0)], opset: 19,
                             expected: average.values, shape: average.shape)
}

@Test func maxPoolCeilModeAndAveragePoolPaddingByHand() throws {
    let max = try runSingle("MaxPool", inputs: [("x", try f32((1...25).map(Float.init), [1, 1, 5, 5]))],
                            attributes: [attribute("kernel_shape", [2, 2]), attribute("strides", [2, 2]), attribute("ceil_mode", 1)])
    #expect(max.shape == [1, 1, 3, 3])
    #expect(max.floats == [7, 9, 10, 17, 19, 20, 22, 24, 25])
    // 2×2 windows over a 2×2 image padded by 1, stride 2: each window holds one pixel.
    let window = [attribute("kernel_shape", [2, 2]), attribute("pads", [1, 1, 1, 1]), attribute("strides", [2, 2])]
    let x = try f32([1, 2, 3, 4], [1, 1, 2, 2])
    #expect(try runSingle("AveragePool", inputs: [("x", x)], attributes: window).floats == [1, 2, 3, 4])
    let included = try runSingle("AveragePool", inputs: [("x", x)], attributes: window + [attribute("count_include_pad", 1)])
    #expect(included.floats == [0.25, 0.5, 0.75, 1])
}

@Test func oneDimensionalPooling() throws {
    let x = try f32([3, 1, 4, 1, 5, 9, 2], [1, 1, 7])
    let max = try runSingle("MaxPool", inputs: [("x", x)], attributes: [attribute("kernel_shape", [3]), attribute("strides", [2])])
    #expect(max.shape == [1, 1, 3])
    #expect(max.floats == [4, 5, 9])
    let average = try runSingle("AveragePool", inputs: [("x", x)],
                                attributes: [attribute("kernel_shape", [2]), attribute("strides", [3]), attribute("pads", [0, 1])])
    #expect(average.floats == [2, 3, 2])  // (3+1)/2, (1+5)/2, 2 alone (the pad is not counted)
}

@Test func globalPoolsReduceEverySpatialAxis() throws {
    // Two channels of 2×3: means 3.5 and −1; maxima 6 and 4.
    let x = try f32([1, 2, 3, 4, 5, 6, -4, -3, -2, 0, -1, 4], [1, 2, 2, 3])
    let average = try runSingle("GlobalAveragePool", inputs: [("x", x)])
    #expect(average.shape == [1, 2, 1, 1])
    #expect(average.floats == [3.5, -1])
    let max = try runSingle("GlobalMaxPool", inputs: [("x", x)])
    #expect(max.floats == [6, 4])
    let threeD = try runSingle("GlobalAveragePool", inputs: [("x", try f32([1, 2, 3, 4, 5, 6, 7, 8], [1, 1, 2, 2, 2]))])
    #expect(threeD.shape == [1, 1, 1, 1, 1])
    #expect(threeD.floats == [4.5])
}

@Test func poolingRefusesWhatItCannotRun() throws {
    let x = try f32([Float](repeating: 1, count: 16), [1, 1, 4, 4])
    expectInterpreterError("unsupported-attribute") {
        _ = try runNode("MaxPool", inputs: [("x", x)], attributes: [attribute("kernel_shape", [2, 2])], outputs: 2)
    }
    expectInterpreterError("unsupported-attribute") {
        _ = try runSingle("MaxPool", inputs: [("x", x)], attributes: [attribute("kernel_shape", [2, 2]), attribute("storage_order", 1)])
    }
    expectInterpreterError("invalid-node") {  // zero stride
        _ = try runSingle("AveragePool", inputs: [("x", x)], attributes: [attribute("kernel_shape", [2, 2]), attribute("strides", [0, 1])])
    }
    expectInterpreterError("invalid-node") {  // missing kernel_shape
        _ = try runSingle("MaxPool", inputs: [("x", x)])
    }
    expectInterpreterError("invalid-node") {  // a window that fits nowhere
        _ = try runSingle("MaxPool", inputs: [("x", x)], attributes: [attribute("kernel_shape", [5, 5])])
    }
}

/// Max-pooling passes over NaN as ONNX Runtime does (`v > best` is false for NaN), is NaN only when
/// every element of the window is, and keeps infinities.
@Test(arguments: [Precision.float32, .float64])
func maxPoolingSkipsNaNUnlessTheWindowIsAllNaN(precision: Precision) throws {
    func tensor(_ values: [Double]) throws -> Tensor {
        precision == .float32 ? try f32(values.map(Float.init), [1, 1, 2, 2]) : try f64(values, [1, 1, 2, 2])
    }
    let cases: [([Double], Double)] = [([.nan, 1, -.infinity, .infinity], .infinity), ([1, 2, .nan, 3], 3),
                                       ([.nan, .nan, .nan, .nan], .nan), ([-.infinity, .nan, -.infinity, .nan], -.infinity)]
    for (values, expected) in cases {
        for (op, attributes) in [("GlobalMaxPool", [Attribute]()), ("MaxPool", [attribute("kernel_shape", [2, 2])]),
                                 ("MaxPool", [attribute("kernel_shape", [2, 2]), attribute("dilations", [1, 1]), attribute("strides", [2, 2])])] {
            let out = try runSingle(op, inputs: [("x", try tensor(values))], attributes: attributes, precision: precision).doubleValues()
            #expect(out.count == 1)
            #expect(out[0] == expected || (out[0].isNaN && expected.isNaN), "\(op)(\(values)) = \(out)")
        }
    }
    // A padded window reaching only NaN elements is NaN, not the padding.
    let padded = try runSingle("MaxPool", inputs: [("x", try tensor([.nan, 1, .nan, 2]))],
                               attributes: [attribute("kernel_shape", [2, 2]), attribute("pads", [1, 1, 0, 0])], precision: precision)
    let values = padded.doubleValues()
    #expect(values.count == 4)
    #expect(values[0].isNaN && values[2].isNaN)
    #expect(values[1] == 1 && values[3] == 2)
}
