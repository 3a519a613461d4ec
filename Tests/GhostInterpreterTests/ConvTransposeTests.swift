import GhostInterpreter
import GhostIR
import Testing
import TestSupport

/// ConvTranspose by its definition, in Double, for any number of spatial axes: every input
/// element x[n][c][i] adds x · w[c][m][k] to y[n][g·M′ + m][i·s − pad + k·d] wherever that lies
/// inside the output; the bias is added to every output element.
private func referenceConvTranspose(
    x: [Double], xShape: [Int], w: [Double], wShape: [Int], bias: [Double]?, group: Int,
    strides: [Int], dilations: [Int], padsBegin: [Int], output: [Int]
) -> [Double] {
    let rank = xShape.count - 2
    let (batch, channels, perGroupOut) = (xShape[0], xShape[1], wShape[1])
    let perGroupIn = channels / group, outChannels = perGroupOut * group
    let inputSpatial = Array(xShape[2...]), kernel = Array(wShape[2...])
    let inputPlane = inputSpatial.reduce(1, *), kernelSize = kernel.reduce(1, *), outputPlane = output.reduce(1, *)
    /// The multi-index of `flat` in `shape` (C order).
    func unflatten(_ flat: Int, _ shape: [Int]) -> [Int] {
        var rest = flat, index = [Int](repeating: 0, count: shape.count)
        for axis in (0..<shape.count).reversed() {
            index[axis] = rest % shape[axis]
            rest /= shape[axis]
        }
        return index
    }
    var y = [Double](repeating: 0, count: batch * outChannels * outputPlane)
    for n in 0..<batch {
        for c in 0..<channels {
            let g = c / perGroupIn
            for i in 0..<inputPlane {
                let position = unflatten(i, inputSpatial)
                let value = x[(n * channels + c) * inputPlane + i]
                for m in 0..<perGroupOut {
                    for k in 0..<kernelSize {
                        let tap = unflatten(k, kernel)
                        var flat = 0, inside = true
                        for axis in 0..<rank {
                            let o = position[axis] * strides[axis] - padsBegin[axis] + tap[axis] * dilations[axis]
                            if o < 0 || o >= output[axis] { inside = false; break }
                            flat = flat * output[axis] + o
                        }
                        guard inside else { continue }
                        let weight = w[(c * perGroupOut + m) * kernelSize + k]
                        y[(n * outChannels + g * perGroupOut + m) * outputPlane + flat] += value * weight
                    }
                }
            }
        }
    }
    if let bias {
        for index in y.indices { y[index] += bias[(index / outputPlane) % outChannels] }
    }
    return y
}

/// One transposed convolution: its shapes and attributes, and the pads and output size the test
/// expects (worked out from the spec's equations, independently of the interpreter).
private struct TransposeCase: CustomStringConvertible {
    var input: [Int]
    var outPerGroup: Int
    var kernel: [Int]
    var group = 1
    var strides: [Int]
    var dilations: [Int]
    var pads: [Int]? = nil
    var outputPadding: [Int]? = nil
    var outputShape: [Int]? = nil
    var autoPad: String? = nil
    var bias = true

    var rank: Int { kernel.count }
    var description: String {
        "x \(input) k \(kernel) g \(group) s \(strides) d \(dilations) pads \(pads ?? []) adj \(outputPadding ?? []) out \(outputShape ?? []) \(autoPad ?? "")"
    }

    /// (leading pads, output sizes).
    var expectedGeometry: ([Int], [Int]) {
        var begins: [Int] = [], sizes: [Int] = []
        for axis in 0..<rank {
            let adjustment = outputPadding?[axis] ?? 0
            let natural = strides[axis] * (input[axis + 2] - 1) + adjustment + (kernel[axis] - 1) * dilations[axis] + 1
            if outputShape != nil || autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER" {
                let target = outputShape?[axis] ?? input[axis + 2] * strides[axis]
                let total = max(0, natural - target)
                begins.append(autoPad == "SAME_UPPER" ? total / 2 : total - total / 2)
                sizes.append(outputShape != nil ? target : natural - total)
            } else if autoPad == "VALID" {
                begins.append(0)
                sizes.append(natural)
            } else {
                let p = pads ?? [Int](repeating: 0, count: 2 * rank)
                begins.append(p[axis])
                sizes.append(natural - p[axis] - p[axis + rank])
            }
        }
        return (begins, sizes)
    }

    var attributes: [Attribute] {
        var list = [attribute("group", Int64(group)), attribute("strides", strides.map(Int64.init)),
                    attribute("dilations", dilations.map(Int64.init)), attribute("kernel_shape", kernel.map(Int64.init))]
        if let pads { list.append(attribute("pads", pads.map(Int64.init))) }
        if let outputPadding { list.append(attribute("output_padding", outputPadding.map(Int64.init))) }
        if let outputShape { list.append(attribute("output_shape", outputShape.map(Int64.init))) }
        if let autoPad { list.append(attribute("auto_pad", autoPad)) }
        return list
    }
}

private func check(_ testCase: TransposeCase, seed: UInt64, sourceLocation: SourceLocation = #_sourceLocation) throws {
    var random = SeededRandom(seed: seed)
    let wShape = [testCase.input[1], testCase.outPerGroup] + testCase.kernel
    let x = random.values(testCase.input.reduce(1, *)), w = random.values(wShape.reduce(1, *))
    let outChannels = testCase.outPerGroup * testCase.group
    let bias = testCase.bias ? random.values(outChannels) : nil
    let (begins, sizes) = testCase.expectedGeometry
    let expected = referenceConvTranspose(x: x, xShape: testCase.input, w: w, wShape: wShape, bias: bias, group: testCase.group,
                                          strides: testCase.strides, dilations: testCase.dilations, padsBegin: begins, output: sizes)
    var constants = [("w", w, wShape)]
    if let bias { constants.append(("b", bias, [outChannels])) }
    try expectBothPrecisions("ConvTranspose", inputs: [("x", x, testCase.input)], constants: constants, attributes: testCase.attributes,
                             opset: 22, expected: expected, shape: [testCase.input[0], outChannels] + sizes, float32Tolerance: 1e-5,
                             sourceLocation: sourceLocation)
}

@Test func convTransposeByHand() throws {
    // 1-D, stride 2, kernel [1, 2]: each input value lands at 2i (·1) and 2i + 1 (·2), plus the bias.
    let out = try runSingle("ConvTranspose", inputs: [("x", try f32([1, 2, 3], [1, 1, 3]))],
                            constants: [("w", try f32([1, 2], [1, 1, 2])), ("b", try f32([10], [1]))],
                            attributes: [attribute("strides", [2])], opset: 11)
    #expect(out.shape == [1, 1, 6])
    #expect(out.floats == [11, 12, 12, 14, 13, 16])
    // The spec's first example: 3×3 ones over 0…8 gives the window sums of the full 5×5 output.
    let full = try runSingle("ConvTranspose", inputs: [("x", try f32((0..<9).map(Float.init), [1, 1, 3, 3]))],
                             constants: [("w", try f32([Float](repeating: 1, count: 18), [1, 2, 3, 3]))], opset: 1)
    #expect(full.shape == [1, 2, 5, 5])
    #expect(Array(full.floats.prefix(10)) == [0, 1, 3, 3, 2, 3, 8, 15, 12, 7])
}

@Test func convTransposeSweep2D() throws {
    var seed: UInt64 = 1
    for stride in 1...3 {
        for dilation in 1...2 {
            for pads in [[0, 0, 0, 0], [1, 0, 2, 1], [2, 2, 2, 2]] {
                for adjustment in Set([0, stride - 1]).sorted() {
                    for (channels, group, outPerGroup) in [(3, 1, 2), (4, 2, 3), (4, 4, 1)] {
                        let testCase = TransposeCase(input: [2, channels, 4, 5], outPerGroup: outPerGroup, kernel: [3, 2], group: group,
                                                     strides: [stride, stride == 3 ? 1 : stride], dilations: [dilation, 1], pads: pads,
                                                     outputPadding: [adjustment, stride == 3 ? 0 : adjustment], bias: seed % 2 == 0)
                        try check(testCase, seed: seed)
                        seed += 1
                    }
                }
            }
        }
    }
}

@Test func convTransposeSweep1DAnd3D() throws {
    var seed: UInt64 = 500
    for stride in 1...3 {
        for dilation in 1...2 {
            for pads in [[0, 0], [0, 2], [3, 1]] {
                for group in [1, 3] {
                    try check(TransposeCase(input: [1, 3, 6], outPerGroup: 2, kernel: [4], group: group, strides: [stride],
                                            dilations: [dilation], pads: pads, outputPadding: [stride - 1]), seed: seed)
                    seed += 1
                }
            }
        }
    }
    try check(TransposeCase(input: [1, 2, 3, 4, 3], outPerGroup: 2, kernel: [2, 3, 2], strides: [2, 1, 3], dilations: [1, 2, 1],
                            pads: [1, 0, 1, 0, 2, 1], outputPadding: [1, 0, 2]), seed: 900)
}

@Test func convTransposeAutoPadAndOutputShape() throws {
    var seed: UInt64 = 1000
    for mode in ["VALID", "SAME_UPPER", "SAME_LOWER"] {
        for stride in 1...3 {
            for kernel in [1, 2, 3, 4] {
                try check(TransposeCase(input: [1, 2, 5, 4], outPerGroup: 2, kernel: [kernel, 3], strides: [stride, 2], dilations: [1, 1],
                                        autoPad: mode), seed: seed)
                try check(TransposeCase(input: [1, 2, 5], outPerGroup: 1, kernel: [kernel], strides: [stride], dilations: [2],
                                        outputPadding: [stride - 1], autoPad: mode), seed: seed + 1)
                seed += 2
            }
        }
    }
    // output_shape overrides pads; targets below the natural size crop (the odd element at the
    // end for SAME_UPPER, else the beginning); those up to stride − 1 − output_padding above it
    // are filled with the bias.
    for mode in [nil, "SAME_UPPER", "SAME_LOWER", "NOTSET"] {
        for stride in 1...3 {
            for adjustment in 0..<stride {
                let natural = stride * (4 - 1) + adjustment + 3
                for target in max(1, natural - 4)...(natural + stride - 1 - adjustment) {
                    try check(TransposeCase(input: [1, 2, 4, 3], outPerGroup: 2, kernel: [3, 2], strides: [stride, 1], dilations: [1, 1],
                                            pads: mode == nil ? [1, 1, 0, 0] : nil, outputPadding: [adjustment, 0],
                                            outputShape: [target, 4], autoPad: mode), seed: seed)
                    seed += 1
                }
            }
        }
    }
}

@Test func convTransposeTilingKernelsAndChunkedColumns() throws {
    // Kernel = stride without padding (2×2 stride-2 upsampling and kin): each output gets one tap.
    try check(TransposeCase(input: [2, 3, 4, 5], outPerGroup: 2, kernel: [2, 2], strides: [2, 2], dilations: [1, 1]), seed: 80)
    try check(TransposeCase(input: [1, 4, 3, 5], outPerGroup: 3, kernel: [3, 2], group: 2, strides: [3, 2], dilations: [1, 1],
                            bias: false), seed: 81)
    try check(TransposeCase(input: [1, 2, 7], outPerGroup: 2, kernel: [3], strides: [3], dilations: [1]), seed: 82)
    try check(TransposeCase(input: [1, 2, 2, 3, 2], outPerGroup: 2, kernel: [2, 1, 3], strides: [2, 1, 3], dilations: [1, 1, 1]), seed: 83)
    // With output_padding the tiles no longer cover the output: the general path, bias at the end.
    try check(TransposeCase(input: [1, 2, 3, 3], outPerGroup: 2, kernel: [2, 2], strides: [2, 2], dilations: [1, 1],
                            outputPadding: [1, 0]), seed: 84)
    // Column matrices larger than one chunk (256 Ki elements): split by input rows, across depth
    // slices in 3-D.
    try check(TransposeCase(input: [1, 2, 40, 33], outPerGroup: 32, kernel: [4, 4], strides: [2, 2], dilations: [1, 1],
                            pads: [1, 1, 1, 1]), seed: 85)
    try check(TransposeCase(input: [2, 2, 40, 33], outPerGroup: 64, kernel: [2, 2], strides: [2, 2], dilations: [1, 1]), seed: 86)
    try check(TransposeCase(input: [1, 2, 4, 10, 20], outPerGroup: 64, kernel: [2, 2, 2], strides: [1, 2, 2], dilations: [1, 1, 1],
                            pads: [0, 1, 0, 1, 0, 1]), seed: 87)
}

@Test func convTransposeWithAComputedWeight() throws {
    // The weight as a graph input (nothing packed ahead of time), one group and two.
    var random = SeededRandom(seed: 90)
    for group in [1, 2] {
        let x = random.values(2 * 4 * 9), w = random.values(4 * 3 * 6)
        let expected = referenceConvTranspose(x: x, xShape: [2, 4, 9], w: w, wShape: [4, 3, 6], bias: nil, group: group, strides: [2],
                                              dilations: [1], padsBegin: [1], output: [2 * 8 + 6 - 2])
        try expectBothPrecisions("ConvTranspose", inputs: [("x", x, [2, 4, 9]), ("w", w, [4, 3, 6])],
                                 attributes: [attribute("strides", [2]), attribute("pads", [1, 1]), attribute("group", Int64(group))],
                                 expected: expected, shape: [2, 3 * group, 20], float32Tolerance: 1e-5)
    }
}

@Test func convTransposePointwiseWritesTheProductDirectly() throws {
    try check(TransposeCase(input: [2, 5, 3, 4], outPerGroup: 3, kernel: [1, 1], strides: [1, 1], dilations: [1, 1]), seed: 77)
    try check(TransposeCase(input: [1, 6, 7], outPerGroup: 2, kernel: [1], group: 3, strides: [1], dilations: [3]), seed: 78)
}

@Test func convTransposeNaNAndInfinity() throws {
    // A NaN input spreads to every output its taps reach; +inf · w is ±inf, +inf meeting −inf is
    // NaN, inf · 0 is NaN; in both precisions, like the Double reference.
    let x: [Double] = [1, .nan, 3, 4, .infinity, 6, 7, 8, 9, -.infinity, 11, 12]
    let w: [Double] = [1, -1, 0.5, 0, 2, 1, -2, 0.25]
    let expected = referenceConvTranspose(x: x, xShape: [1, 2, 6], w: w, wShape: [2, 2, 2], bias: [0.5, -0.5], group: 1,
                                          strides: [2], dilations: [1], padsBegin: [0], output: [12])
    for precision in Precision.allCases {
        let out = try runSingle("ConvTranspose", inputs: [("x", try f32(x.map { Float($0) }, [1, 2, 6]))],
                                constants: [("w", try f32(w.map { Float($0) }, [2, 2, 2])), ("b", try f32([0.5, -0.5], [2]))],
                                attributes: [attribute("strides", [2])], precision: precision)
        let actual = precision == .float64 ? out.doubles : out.floats.map(Double.init)
        #expect(actual.count == expected.count)
        for (a, e) in zip(actual, expected) {
            let same = e.isNaN ? a.isNaN : (e.isInfinite ? a == e : abs(a - e) < 1e-6)
            #expect(same, "\(precision): \(a), expected \(e)")
        }
        #expect(expected.contains { $0.isNaN } && expected.contains { $0.isInfinite })
    }
}

@Test func convTransposeMalformedNodesAreTypedErrors() throws {
    let x = try f32([Float](repeating: 1, count: 2 * 9), [1, 2, 3, 3])
    func run(_ weight: [Int], _ attributes: [Attribute], bias: Int? = nil) throws {
        var constants = [("w", try f32([Float](repeating: 1, count: weight.reduce(1, *)), weight))]
        if let bias { constants.append(("b", try f32([Float](repeating: 0, count: bias), [bias]))) }
        _ = try runSingle("ConvTranspose", inputs: [("x", x)], constants: constants, attributes: attributes, opset: 22)
    }
    // Weight channels that do not match the input, or groups that do not divide them.
    expectInterpreterError("invalid-node") { try run([3, 1, 2, 2], []) }
    expectInterpreterError("invalid-node") { try run([2, 1, 2, 2], [attribute("group", 3)]) }
    expectInterpreterError("invalid-node") { try run([2, 1, 2, 2], [attribute("group", 0)]) }
    // output_padding must stay below the stride (ONNX Runtime's rule), and be non-negative.
    expectInterpreterError("invalid-node") { try run([2, 1, 2, 2], [attribute("strides", [2, 2]), attribute("output_padding", [2, 0])]) }
    expectInterpreterError("invalid-node") { try run([2, 1, 2, 2], [attribute("dilations", [2, 2]), attribute("output_padding", [1, 0])]) }
    expectInterpreterError("invalid-node") { try run([2, 1, 2, 2], [attribute("output_padding", [-1, 0])]) }
    // Pads that leave no output, or negative pads.
    expectInterpreterError("invalid-node") { try run([2, 1, 2, 2], [attribute("pads", [2, 0, 2, 0])]) }
    expectInterpreterError("invalid-node") { try run([2, 1, 2, 2], [attribute("pads", [-1, 0, 0, 0])]) }
    expectInterpreterError("invalid-node") { try run([2, 1, 2, 2], [attribute("pads", [1, 1])]) }
    // Huge strides: an output beyond the interpreter's limit, or sizes that overflow Int.
    expectInterpreterError("tensor-too-large") { try run([2, 1, 2, 2], [attribute("strides", [1 << 40, 1 << 40])]) }
    expectInterpreterError("invalid-node") { try run([2, 1, 2, 2], [attribute("strides", [Int64.max, 1])]) }
    expectInterpreterError("invalid-node") { try run([2, 1, 2, 2], [attribute("dilations", [Int64.max, 1])]) }
    // output_shape: wrong length, non-positive, or too large for the input.
    expectInterpreterError("invalid-node") { try run([2, 1, 2, 2], [attribute("output_shape", [1, 2, 4, 4])]) }
    expectInterpreterError("invalid-node") { try run([2, 1, 2, 2], [attribute("output_shape", [0, 4])]) }
    expectInterpreterError("invalid-node") { try run([2, 1, 2, 2], [attribute("output_shape", [6, 4])]) }
    // Other malformed attributes.
    expectInterpreterError("invalid-node") { try run([2, 1, 2, 2], [attribute("auto_pad", "SAME_UPPER"), attribute("pads", [0, 0, 0, 0])]) }
    expectInterpreterError("unsupported-attribute") { try run([2, 1, 2, 2], [attribute("auto_pad", "SAME")]) }
    expectInterpreterError("invalid-node") { try run([2, 1, 2, 2], [attribute("kernel_shape", [3, 3])]) }
    expectInterpreterError("invalid-node") { try run([2, 1, 2, 2], [attribute("strides", [0, 1])]) }
    expectInterpreterError("invalid-node") { try run([2, 1, 2, 2], [], bias: 3) }
    expectInterpreterError("unsupported-attribute") {
        _ = try runSingle("ConvTranspose", inputs: [("x", try f32([1], [1, 1]))], constants: [("w", try f32([1], [1, 1]))])
    }
}
