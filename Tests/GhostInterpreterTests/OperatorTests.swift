import Foundation
import GhostInterpreter
import GhostIR
import Testing

/// A one-node graph over float inputs x (and y), with the given constants.
private func run(_ op: String, inputs: [(String, [Float], [Int])], constants: [(String, Tensor)] = [],
                 attributes: [Attribute] = [], nodeInputs: [String]? = nil, outputs: Int = 1, opset: Int64 = 17,
                 precision: Precision = .float32) throws -> [Tensor] {
    var initializers = InitializerTable()
    for (name, tensor) in constants { initializers[name] = tensor }
    let outputNames = (0..<outputs).map { "out\($0)" }
    let graph = Graph(
        inputs: inputs.map { Value(name: $0.0, elementType: .float32, shape: $0.2.map(ShapeDimension.fixed)) },
        outputs: outputNames.map { Value(name: $0) }, initializers: initializers,
        nodes: [Node(name: "N", opType: op, inputs: nodeInputs ?? (inputs.map(\.0) + constants.map(\.0)), outputs: outputNames, attributes: attributes)],
        opsetImports: [OpsetImport(domain: "", version: opset)])
    var feeds: [String: Tensor] = [:]
    for (name, values, shape) in inputs { feeds[name] = try Tensor(float32: values, shape: shape) }
    let result = try Interpreter(graph: graph, precision: precision).run(feeds)
    return outputNames.map { result[$0]! }
}

private func ints(_ name: String, _ values: [Int64]) -> Attribute { Attribute(name: name, value: .ints(values)) }
private func int(_ name: String, _ value: Int64) -> Attribute { Attribute(name: name, value: .int(value)) }
private func floats(_ t: Tensor) -> [Float] { t.elements(as: Float.self) }

@Test func convolutionByHand() throws {
    // x = 1..9 (3×3), w = [[1, 0], [0, -1]]: out[i][j] = x[i][j] − x[i+1][j+1] = −4 everywhere.
    let w = try Tensor(float32: [1, 0, 0, -1], shape: [1, 1, 2, 2])
    let out = try run("Conv", inputs: [("x", (1...9).map(Float.init), [1, 1, 3, 3])], constants: [("w", w)])
    #expect(out[0].shape == [1, 1, 2, 2])
    #expect(floats(out[0]) == [-4, -4, -4, -4])
}

@Test func depthwiseStrideAsymmetricPads() throws {
    // Two channels, depthwise 1×1 kernels ×2 and ×3, stride 2, pads top/left 1, bottom/right 0.
    let w = try Tensor(float32: [2, 3], shape: [2, 1, 1, 1])
    let b = try Tensor(float32: [0.5, -1], shape: [2])
    let x: [Float] = [1, 2, 3, 4, 10, 20, 30, 40]  // two 2×2 channels
    let out = try run("Conv", inputs: [("x", x, [1, 2, 2, 2])], constants: [("w", w), ("b", b)],
                      attributes: [int("group", 2), ints("strides", [2, 2]), ints("pads", [1, 1, 0, 0])])
    // Output 2×2 per channel: rows/columns −1 (padding: only the bias) and 1.
    #expect(out[0].shape == [1, 2, 2, 2])
    #expect(floats(out[0]) == [0.5, 0.5, 0.5, 8.5, -1, -1, -1, 119])  // 4·2 + 0.5 and 40·3 − 1
}

@Test func dilatedGroupedConvMatchesADirectSum() throws {
    // group 2, two input channels per group, dilation 2, pads 2: check one output element by hand.
    let x: [Float] = (0..<100).map { (i: Int) -> Float in Float(i % 7) - 3 }
    let w: [Float] = (0..<72).map { (i: Int) -> Float in Float(i % 5) - 2 }
    let out = try run("Conv", inputs: [("x", x, [1, 4, 5, 5])], constants: [("w", try Tensor(float32: w, shape: [4, 2, 3, 3]))],
                      attributes: [int("group", 2), ints("dilations", [2, 2]), ints("pads", [2, 2, 2, 2])])
    #expect(out[0].shape == [1, 4, 5, 5])
    // Output channel 3 (group 1: input channels 2, 3) at (1, 2).
    var expected: Float = 0
    for i in 0..<2 {
        for ky in 0..<3 {
            for kx in 0..<3 {
                let iy: Int = -1 + 2 * ky
                let ix: Int = 2 * kx
                guard iy >= 0, iy < 5, ix < 5 else { continue }
                let input: Float = x[(2 + i) * 25 + iy * 5 + ix]
                let weight: Float = w[(6 + i) * 9 + ky * 3 + kx]
                expected += input * weight
            }
        }
    }
    #expect(floats(out[0])[3 * 25 + 1 * 5 + 2] == expected)
}

@Test(arguments: [("SAME_UPPER", [Float](arrayLiteral: 54, 45, 72, 54)), ("SAME_LOWER", [14, 30, 57, 99])])
func autoPadPlacesTheExtraPadding(mode: String, expected: [Float]) throws {
    // 4×4 input of 1..16, 3×3 ones kernel, stride 2: SAME needs one row and column of padding,
    // after the input (UPPER: windows start at 0, 2) or before it (LOWER: windows start at −1, 1).
    let w = try Tensor(float32: [Float](repeating: 1, count: 9), shape: [1, 1, 3, 3])
    let out = try run("Conv", inputs: [("x", (1...16).map(Float.init), [1, 1, 4, 4])], constants: [("w", w)],
                      attributes: [ints("strides", [2, 2]), Attribute(name: "auto_pad", value: .string(Array(mode.utf8)))])
    #expect(out[0].shape == [1, 1, 2, 2])
    #expect(floats(out[0]) == expected)
}

@Test func maxPoolCeilModeAndAveragePoolPadding() throws {
    let x = (1...25).map(Float.init)
    let max = try run("MaxPool", inputs: [("x", x, [1, 1, 5, 5])],
                      attributes: [ints("kernel_shape", [2, 2]), ints("strides", [2, 2]), int("ceil_mode", 1)])
    #expect(max[0].shape == [1, 1, 3, 3])
    #expect(floats(max[0]) == [7, 9, 10, 17, 19, 20, 22, 24, 25])
    let excluded = try run("AveragePool", inputs: [("x", [1, 2, 3, 4], [1, 1, 2, 2])],
                           attributes: [ints("kernel_shape", [2, 2]), ints("pads", [1, 1, 1, 1]), ints("strides", [2, 2])])
    #expect(floats(excluded[0]) == [1, 2, 3, 4])
    let included = try run("AveragePool", inputs: [("x", [1, 2, 3, 4], [1, 1, 2, 2])],
                           attributes: [ints("kernel_shape", [2, 2]), ints("pads", [1, 1, 1, 1]), ints("strides", [2, 2]), int("count_include_pad", 1)])
    #expect(floats(included[0]) == [0.25, 0.5, 0.75, 1])
}

@Test func broadcastingFollowsNumPy() throws {
    let out = try run("Add", inputs: [("x", [1, 2, 3, 10, 20, 30], [2, 1, 3]), ("y", [100, 200], [2, 1])])
    #expect(out[0].shape == [2, 2, 3])
    #expect(floats(out[0]) == [101, 102, 103, 201, 202, 203, 110, 120, 130, 210, 220, 230])
    #expect(throws: InterpreterError.self) { try run("Mul", inputs: [("x", [1, 2, 3], [3]), ("y", [1, 2], [2])]) }
}

@Test func sliceWithNegativeIndicesAndSteps() throws {
    let starts = try Tensor(int64: [-1], shape: [1]), ends = try Tensor(int64: [-6], shape: [1])
    let axes = try Tensor(int64: [1], shape: [1]), steps = try Tensor(int64: [-2], shape: [1])
    let out = try run("Slice", inputs: [("x", (0..<10).map(Float.init), [2, 5])],
                      constants: [("s", starts), ("e", ends), ("a", axes), ("t", steps)])
    #expect(out[0].shape == [2, 3])
    #expect(floats(out[0]) == [4, 2, 0, 9, 7, 5])
}

@Test func reshapeWithZeroAndMinusOne() throws {
    let shape = try Tensor(int64: [0, -1], shape: [2])
    let out = try run("Reshape", inputs: [("x", (0..<24).map(Float.init), [2, 3, 4])], constants: [("s", shape)])
    #expect(out[0].shape == [2, 12])
}

@Test func transposeConcatSplitGather() throws {
    let t = try run("Transpose", inputs: [("x", [1, 2, 3, 4, 5, 6], [2, 3])], attributes: [ints("perm", [1, 0])])
    #expect(floats(t[0]) == [1, 4, 2, 5, 3, 6])
    let c = try run("Concat", inputs: [("x", [1, 2], [1, 2]), ("y", [3, 4, 5, 6], [2, 2])], attributes: [int("axis", 0)])
    #expect(c[0].shape == [3, 2])
    #expect(floats(c[0]) == [1, 2, 3, 4, 5, 6])
    let s = try run("Split", inputs: [("x", (0..<6).map(Float.init), [1, 6])], attributes: [int("axis", 1), ints("split", [2, 4])], outputs: 2, opset: 11)
    #expect(floats(s[0]) == [0, 1] && floats(s[1]) == [2, 3, 4, 5])
    let g = try run("Gather", inputs: [("x", [1, 2, 3, 4, 5, 6], [3, 2])], constants: [("i", try Tensor(int64: [-1, 0], shape: [2]))])
    #expect(floats(g[0]) == [5, 6, 1, 2])
}

@Test func softmaxGemmAndMatMul() throws {
    let sm = try run("Softmax", inputs: [("x", [0, 0, Float(log(3.0))], [1, 3])])
    #expect(floats(sm[0]).map { ($0 * 1000).rounded() } == [200, 200, 600])
    let b = try Tensor(float32: [1, 2, 3, 4, 5, 6], shape: [2, 3])  // used transposed: 3×2
    let c = try Tensor(float32: [10, 20], shape: [2])
    let gemm = try run("Gemm", inputs: [("x", [1, 1, 1], [1, 3])], constants: [("b", b), ("c", c)], attributes: [int("transB", 1)])
    #expect(floats(gemm[0]) == [16, 35])
    let mm = try run("MatMul", inputs: [("x", (0..<12).map(Float.init), [2, 2, 3]), ("y", [1, 0, 0, 1, 1, 1], [3, 2])])
    #expect(mm[0].shape == [2, 2, 2])
    // Each row r of x times [[1, 0], [0, 1], [1, 1]] is [r0 + r2, r1 + r2].
    #expect(floats(mm[0]) == [2, 3, 8, 9, 14, 15, 20, 21])
}

@Test func float64RunsInDouble() throws {
    let out = try run("Add", inputs: [("x", [0.1], [1]), ("y", [0.2], [1])], precision: .float64)
    #expect(out[0].elementType == .float64)
    #expect(out[0].elements(as: Double.self)[0] == Double(Float(0.1)) + Double(Float(0.2)))
}

@Test func unsupportedOperatorNamesTheNode() {
    #expect(throws: InterpreterError.unsupportedOperator(node: "N", op: "NonMaxSuppression", domain: "")) {
        try run("NonMaxSuppression", inputs: [("x", [1], [1])])
    }
}

@Test func trainingBatchNormIsRefused() throws {
    let p = try Tensor(float32: [1], shape: [1])
    #expect(throws: InterpreterError.unsupportedAttribute(node: "N", op: "BatchNormalization", attribute: "training_mode", value: "1 (only inference BatchNormalization runs here)")) {
        try run("BatchNormalization", inputs: [("x", [1, 2], [1, 1, 2])], constants: [("g", p), ("b", p), ("m", p), ("v", p)],
                attributes: [int("training_mode", 1)])
    }
}

@Test func inputsAreCheckedAgainstTheGraph() throws {
    let graph = Graph(inputs: [Value(name: "x", elementType: .float32, shape: [.symbolic("N"), .fixed(3)])],
                      outputs: [Value(name: "y")], nodes: [Node(name: "R", opType: "Relu", inputs: ["x"], outputs: ["y"])])
    let interpreter = try Interpreter(graph: graph)
    #expect(throws: InterpreterError.missingInput(name: "x")) { try interpreter.run([:]) }
    #expect(throws: InterpreterError.inputShapeMismatch(name: "x", expected: "float[N,3]", actual: [2, 4])) {
        try interpreter.run(["x": try Tensor(float32: [Float](repeating: 0, count: 8), shape: [2, 4])])
    }
    let ok = try interpreter.run(["x": try Tensor(float32: [-1, 2, -3, 4, -5, 6], shape: [2, 3])])
    #expect(ok["y"]?.elements(as: Float.self) == [0, 2, 0, 4, 0, 6])
}
