import Foundation
import GhostInterpreter
import GhostIR
import Testing
import TestSupport

// The fast paths taken on YOLO's feature maps (issue 13), each against a plain loop written here:
// the direct 3×3 convolution, the padded-plane AveragePool and MaxPool, and the planned SiLU
// after a producer other than a Conv. Each path promises the bits of the general one, so the
// float32 comparisons are exact.

// MARK: - Direct 3×3 convolution

struct DirectConvCase: CustomTestStringConvertible, Sendable {
    var name: String
    var input: [Int]  // N, C, H, W
    var outputChannels: Int
    var stride: Int
    var pads: [Int]  // top, left, bottom, right
    var testDescription: String { name }
}

private let directConvCases: [DirectConvCase] = [
    DirectConvCase(name: "stem 3→8 stride 2, odd sizes", input: [1, 3, 13, 17], outputChannels: 8, stride: 2, pads: [1, 1, 1, 1]),
    DirectConvCase(name: "5→7 stride 1 (channel tail 3, column tail)", input: [1, 5, 9, 23], outputChannels: 7, stride: 1, pads: [1, 1, 1, 1]),
    DirectConvCase(name: "4→6 stride 1 unpadded", input: [2, 4, 8, 8], outputChannels: 6, stride: 1, pads: [0, 0, 0, 0]),
    DirectConvCase(name: "asymmetric pads stride 2", input: [1, 6, 10, 19], outputChannels: 5, stride: 2, pads: [0, 1, 1, 0]),
    DirectConvCase(name: "output narrower than a vector", input: [1, 2, 5, 4], outputChannels: 1, stride: 1, pads: [2, 2, 1, 2]),
    DirectConvCase(name: "33 columns stride 1", input: [1, 8, 4, 33], outputChannels: 9, stride: 1, pads: [1, 1, 1, 1]),
    DirectConvCase(name: "even width stride 2 (YOLO downsample)", input: [1, 16, 12, 32], outputChannels: 16, stride: 2, pads: [1, 1, 1, 1]),
    // Padded rows would be ~10⁵ times the image: the GEMM runs instead, with the same bits.
    DirectConvCase(name: "pads far wider than the image", input: [1, 2, 2, 2], outputChannels: 1, stride: 1, pads: [400, 400, 400, 400]),
]

/// The convolution by its definition in T: for each output, from +0, the fused multiply-adds
/// w·x over (c, ky, kx) in order with x = 0 outside the image (what im2col's zeros give the
/// GEMM), then the bias added.
private func referenceConv<T: BinaryFloatingPoint>(_ x: [T], _ w: [T], _ bias: [T], _ c: DirectConvCase) -> (values: [T], shape: [Int]) {
    let (n, channels, h, wd) = (c.input[0], c.input[1], c.input[2], c.input[3])
    let oh = (h + c.pads[0] + c.pads[2] - 3) / c.stride + 1, ow = (wd + c.pads[1] + c.pads[3] - 3) / c.stride + 1
    var out: [T] = []
    for image in 0..<n {
        for m in 0..<c.outputChannels {
            for oy in 0..<oh {
                for ox in 0..<ow {
                    var acc: T = 0
                    for ch in 0..<channels {
                        for ky in 0..<3 {
                            for kx in 0..<3 {
                                let iy = oy * c.stride - c.pads[0] + ky, ix = ox * c.stride - c.pads[1] + kx
                                let v: T = iy >= 0 && iy < h && ix >= 0 && ix < wd ? x[((image * channels + ch) * h + iy) * wd + ix] : 0
                                acc.addProduct(w[((m * channels + ch) * 3 + ky) * 3 + kx], v)
                            }
                        }
                    }
                    out.append(acc + bias[m])
                }
            }
        }
    }
    return (out, [n, c.outputChannels, oh, ow])
}

private func convInputs(_ c: DirectConvCase, special: Bool) -> (x: [Double], w: [Double], bias: [Double]) {
    var random = SeededRandom(seed: UInt64(c.name.utf8.count) &* 31)
    var x = random.values(c.input.reduce(1, *))
    if special, x.count > 12 {
        x[3] = .infinity
        x[x.count / 2] = .nan
        x[x.count - 2] = -.infinity
    }
    return (x, random.values(c.outputChannels * c.input[1] * 9), random.values(c.outputChannels))
}

private func runConv(_ c: DirectConvCase, _ x: [Double], _ w: [Double], _ bias: [Double], precision: Precision) throws -> Tensor {
    let attributes = [attribute("kernel_shape", [3, 3]), attribute("strides", [Int64(c.stride), Int64(c.stride)]),
                      attribute("pads", c.pads.map(Int64.init))]
    return try runSingle("Conv", inputs: [("x", try f32(x.map { Float($0) }, c.input))],
                         constants: [("w", try f32(w.map { Float($0) }, [c.outputChannels, c.input[1], 3, 3])),
                                     ("b", try f32(bias.map { Float($0) }, [c.outputChannels]))],
                         attributes: attributes, precision: precision)
}

/// Equal bits, any NaN matching any NaN.
private func expectSameBits<T: BinaryFloatingPoint>(_ actual: [T], _ expected: [T], _ what: String,
                                                   sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(actual.count == expected.count, "\(what): \(actual.count) values for \(expected.count)", sourceLocation: sourceLocation)
    var mismatches = 0
    for (index, (a, e)) in zip(actual, expected).enumerated() where (!(a.isNaN && e.isNaN) && a != e) || (a == 0 && e == 0 && a.sign != e.sign) {
        mismatches += 1
        if mismatches <= 3 { Issue.record("\(what): element \(index) is \(a), expected \(e)", sourceLocation: sourceLocation) }
    }
    #expect(mismatches == 0, "\(what): \(mismatches) elements differ", sourceLocation: sourceLocation)
}

@Test(arguments: directConvCases)
func directConvolutionHasTheGEMMsBits(_ testCase: DirectConvCase) throws {
    for special in [false, true] {
        let (x, w, bias) = convInputs(testCase, special: special)
        let expected = referenceConv(x.map { Float($0) }, w.map { Float($0) }, bias.map { Float($0) }, testCase)
        let out = try runConv(testCase, x, w, bias, precision: .float32)
        #expect(out.shape == expected.shape)
        expectSameBits(out.floats, expected.values, "\(testCase.name) float32\(special ? " with ±inf and NaN" : "")")
        // float64 runs the GEMM (BLAS or the packed kernel, not always in this order): close, and
        // NaN exactly where the definition has it.
        let double = try runConv(testCase, x, w, bias, precision: .float64).doubles
        let reference = referenceConv(x, w, bias, testCase).values
        #expect(double.count == reference.count)
        for (a, e) in zip(double, reference) {
            if e.isNaN || e.isInfinite { #expect(a.isNaN == e.isNaN && (e.isNaN || a == e)) } else { #expect(abs(a - e) <= 1e-12 * max(1, abs(e))) }
        }
    }
}

// MARK: - Pooling on the padded plane

struct FastPoolCase: CustomTestStringConvertible, Sendable {
    var name: String
    var input: [Int]  // N, C, H, W
    var kernel: [Int]
    var strides: [Int]
    var pads = [0, 0, 0, 0]
    var ceil = false
    var countPadding = false
    var testDescription: String { name }
}

private let fastPoolCases: [FastPoolCase] = [
    FastPoolCase(name: "2×2 stride 1 unpadded (AConv)", input: [1, 3, 9, 11], kernel: [2, 2], strides: [1, 1]),
    FastPoolCase(name: "2×2 stride 1 ceil_mode", input: [1, 2, 6, 7], kernel: [2, 2], strides: [1, 1], ceil: true),
    FastPoolCase(name: "3×3 stride 1 pads 1, count_include_pad", input: [2, 2, 7, 9], kernel: [3, 3], strides: [1, 1],
                 pads: [1, 1, 1, 1], countPadding: true),
    FastPoolCase(name: "3×3 stride 1 pads 1, in-image count", input: [1, 2, 7, 9], kernel: [3, 3], strides: [1, 1], pads: [1, 1, 1, 1]),
    FastPoolCase(name: "3×3 stride 2 asymmetric pads, ceil", input: [1, 2, 10, 13], kernel: [3, 3], strides: [2, 2],
                 pads: [0, 1, 2, 0], ceil: true, countPadding: true),
    FastPoolCase(name: "3×2 strides 3, 2 ceil, odd sizes", input: [1, 1, 11, 9], kernel: [3, 2], strides: [3, 2], ceil: true),
    FastPoolCase(name: "5×5 stride 1 pads 2 (SPPF)", input: [1, 2, 6, 6], kernel: [5, 5], strides: [1, 1], pads: [2, 2, 2, 2]),
    FastPoolCase(name: "1×3 stride 1 unpadded (1-D as 2-D)", input: [1, 2, 1, 10], kernel: [1, 3], strides: [1, 1]),
]

/// Pooling by its definition in T, the general loop's order: the in-image taps by rows then
/// columns; average from +0 divided by the in-image count (or, with count_include_pad, the taps
/// inside the explicit padding); maximum skipping NaN (NaN only when every tap is NaN).
private func referenceFastPool<T: BinaryFloatingPoint>(_ x: [T], _ c: FastPoolCase, maximum: Bool) -> (values: [T], shape: [Int]) {
    let (h, w) = (c.input[2], c.input[3])
    func outputSize(_ axis: Int, _ size: Int) -> Int {
        let span = size + c.pads[axis] + c.pads[axis + 2] - (c.kernel[axis] - 1) - 1
        var count = (c.ceil ? (span + c.strides[axis] - 1) / c.strides[axis] : span / c.strides[axis]) + 1
        if c.ceil, (count - 1) * c.strides[axis] >= size + c.pads[axis] { count -= 1 }
        return count
    }
    let (oh, ow) = (outputSize(0, h), outputSize(1, w))
    var out: [T] = []
    for plane in 0..<(c.input[0] * c.input[1]) {
        for oy in 0..<oh {
            for ox in 0..<ow {
                var best = T.nan, sum: T = 0, taps = 0, extent = 0
                for ky in 0..<c.kernel[0] {
                    for kx in 0..<c.kernel[1] {
                        let iy = oy * c.strides[0] - c.pads[0] + ky, ix = ox * c.strides[1] - c.pads[1] + kx
                        if iy < h + c.pads[2], ix < w + c.pads[3] { extent += 1 }
                        guard iy >= 0, iy < h, ix >= 0, ix < w else { continue }
                        let v = x[(plane * h + iy) * w + ix]
                        if v > best || best.isNaN { best = v }
                        sum += v
                        taps += 1
                    }
                }
                out.append(maximum ? best : sum / T(max(c.countPadding ? extent : taps, 1)))
            }
        }
    }
    return (out, [c.input[0], c.input[1], oh, ow])
}

private func poolInput(_ c: FastPoolCase) -> [Double] {
    var random = SeededRandom(seed: UInt64(c.name.utf8.count) &* 17)
    var x = random.values(c.input.reduce(1, *))
    // A NaN, an inf, a whole NaN window's worth at the start, and signed zeros.
    x[x.count / 2] = .nan
    x[x.count / 3] = .infinity
    x[x.count - 1] = -.infinity
    x[0] = .nan
    x[1] = .nan
    if x.count > c.input[3] + 1 {
        x[c.input[3]] = .nan
        x[c.input[3] + 1] = .nan
    }
    x[x.count / 4] = -0.0
    x[x.count / 4 + 1] = 0.0
    return x
}

@Test(arguments: fastPoolCases)
func paddedPlanePoolingKeepsTheGeneralLoopsBits(_ testCase: FastPoolCase) throws {
    let x = poolInput(testCase)
    var attributes = [attribute("kernel_shape", testCase.kernel.map(Int64.init)), attribute("strides", testCase.strides.map(Int64.init)),
                      attribute("pads", testCase.pads.map(Int64.init)), attribute("ceil_mode", testCase.ceil ? 1 : 0)]
    attributes.append(attribute("count_include_pad", testCase.countPadding ? 1 : 0))
    for (op, maximum) in [("AveragePool", false), ("MaxPool", true)] {
        let nodeAttributes = maximum ? attributes.filter { $0.name != "count_include_pad" } : attributes
        let single = try runSingle(op, inputs: [("x", try f32(x.map { Float($0) }, testCase.input))], attributes: nodeAttributes,
                                   opset: 19, precision: .float32)
        let expected = referenceFastPool(x.map { Float($0) }, testCase, maximum: maximum)
        #expect(single.shape == expected.shape)
        expectSameBits(single.floats, expected.values, "\(op) \(testCase.name) float32")
        let double = try runSingle(op, inputs: [("x", try f32(x.map { Float($0) }, testCase.input))], attributes: nodeAttributes,
                                   opset: 19, precision: .float64)
        expectSameBits(double.doubles, referenceFastPool(x, testCase, maximum: maximum).values, "\(op) \(testCase.name) float64")
    }
}

@Test func oneDimensionalAveragePoolTakesThePlanePath() throws {
    // 1-D pooling is 2-D over one row: [1, 4, 2, 8, NaN, 3] with k = 2, stride 1, pads 1 and
    // count_include_pad: (0+1)/2, (1+4)/2, (4+2)/2, (2+8)/2, NaN, NaN, (3+0)/2.
    let x: [Float] = [1, 4, 2, 8, .nan, 3]
    let out = try runSingle("AveragePool", inputs: [("x", try f32(x, [1, 1, 6]))],
                            attributes: [attribute("kernel_shape", [2]), attribute("pads", [1, 1]), attribute("count_include_pad", 1)],
                            opset: 19)
    #expect(out.shape == [1, 1, 7])
    expectSameBits(out.floats, [0.5, 2.5, 3, 5, .nan, .nan, 1.5], "1-D AveragePool")
}

// MARK: - SiLU after a producer other than a Conv

/// x → Add(x, c) → a → Sigmoid → s → Mul → y, as RepConv's branches meet in YOLOv9's training
/// form; the variants move the Mul's operands or make a value a graph output.
private func siluGraph(sigmoidFirst: Bool, sigmoidIsOutput: Bool = false, sumIsOutput: Bool = false) throws -> Graph {
    var initializers = InitializerTable()
    initializers["c"] = try f32([0.25, -1.5, 3], [1, 3, 1, 1])
    let nodes = [
        Node(name: "add", opType: "Add", inputs: ["x", "c"], outputs: ["a"]),
        Node(name: "sigmoid", opType: "Sigmoid", inputs: ["a"], outputs: ["s"]),
        Node(name: "mul", opType: "Mul", inputs: sigmoidFirst ? ["s", "a"] : ["a", "s"], outputs: ["y"]),
        Node(name: "after", opType: "Add", inputs: ["y", "c"], outputs: ["z"]),
    ]
    var outputs = [Value(name: "z")]
    if sigmoidIsOutput { outputs.append(Value(name: "s")) }
    if sumIsOutput { outputs.append(Value(name: "a")) }
    return Graph(inputs: [Value(name: "x", elementType: .float32, shape: [1, 3, 2, 4].map(ShapeDimension.fixed))], outputs: outputs,
                 initializers: initializers, nodes: nodes, opsetImports: [OpsetImport(domain: "", version: 17)])
}

@Test(arguments: [(false, false, false), (true, false, false), (false, true, false), (false, false, true)])
func siluAfterAddMatchesItsNodes(_ variant: (sigmoidFirst: Bool, sigmoidIsOutput: Bool, sumIsOutput: Bool)) throws {
    var random = SeededRandom(seed: 11)
    var x: [Float] = random.values(24).map { Float($0 * 12) }
    x[0] = .infinity
    x[1] = -.infinity
    x[2] = .nan
    x[3] = -0.0
    x[4] = 100
    x[5] = -100
    let graph = try siluGraph(sigmoidFirst: variant.sigmoidFirst, sigmoidIsOutput: variant.sigmoidIsOutput, sumIsOutput: variant.sumIsOutput)
    let c: [Double] = [0.25, -1.5, 3]
    for precision in Precision.allCases {
        let interpreter = try Interpreter(graph: graph, precision: precision)
        let feeds = ["x": try f32(x, [1, 3, 2, 4])]
        let planned = try interpreter.run(feeds)
        let separate = try interpreter.run(feeds, keepingIntermediates: true)
        for output in graph.outputs {
            let a = try #require(planned[output.name]).doubleValues(), b = try #require(separate[output.name]).doubleValues()
            expectSameBits(a, b, "\(precision) \(output.name) planned against node by node")
        }
        // z = a·σ(a) + c with a = x + c, by the definition in Double.
        let z: [Double] = try #require(planned["z"]).doubleValues()
        for i in 0..<24 {
            let a = Double(x[i]) + c[i / 8]
            let expected = (a.isInfinite && a < 0 ? Double.nan : a / (1 + exp(-a))) + c[i / 8]
            let tolerance = precision == .float64 ? 1e-12 : 1e-5
            if expected.isNaN || expected.isInfinite {
                #expect(z[i].isNaN == expected.isNaN && (expected.isNaN || z[i] == expected), "\(precision) z[\(i)] = \(z[i]), expected \(expected)")
            } else {
                #expect(abs(z[i] - expected) <= tolerance * max(1, abs(expected)), "\(precision) z[\(i)] = \(z[i]), expected \(expected)")
            }
        }
    }
}

@Test func plannedSiLURefusesIntegersLikeSigmoid() throws {
    var initializers = InitializerTable()
    initializers["c"] = try i64([1], [1])
    let graph = Graph(inputs: [Value(name: "x", elementType: .int64, shape: [ShapeDimension.fixed(3)])], outputs: [Value(name: "y")],
                      initializers: initializers,
                      nodes: [Node(name: "add", opType: "Add", inputs: ["x", "c"], outputs: ["a"]),
                              Node(name: "sigmoid", opType: "Sigmoid", inputs: ["a"], outputs: ["s"]),
                              Node(name: "mul", opType: "Mul", inputs: ["a", "s"], outputs: ["y"])],
                      opsetImports: [OpsetImport(domain: "", version: 17)])
    let interpreter = try Interpreter(graph: graph)
    let error = expectInterpreterError("invalid-node") { _ = try interpreter.run(["x": try i64([1, 2, 3])]) }
    #expect(error?.localizedDescription.contains("sigmoid") == true, "\(String(describing: error?.localizedDescription))")
}
