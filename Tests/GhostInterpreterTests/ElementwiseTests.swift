import Foundation
import GhostInterpreter
import GhostIR
import Testing
import TestSupport

private let samples: [Double] = [-7, -3.5, -3, -1, -0.25, 0, 0.125, 0.5, 1, 2.75, 3, 6.5]

/// Each activation against its formula from the ONNX operator documentation, written out here.
struct Activation: CustomTestStringConvertible, Sendable {
    let op: String
    let attributes: [Attribute]
    let formula: @Sendable (Double) -> Double
    var testDescription: String { op + (attributes.isEmpty ? "" : " " + attributes.map(\.name).joined(separator: ",")) }
}

private let activations: [Activation] = [
    Activation(op: "Relu", attributes: []) { max($0, 0) },
    // Attributes are float32 in ONNX: the defaults 0.01, 0.2 are those floats, widened.
    Activation(op: "LeakyRelu", attributes: []) { $0 < 0 ? Double(Float(0.01)) * $0 : $0 },
    Activation(op: "LeakyRelu", attributes: [floatAttribute("alpha", Float(0.25))]) { $0 < 0 ? 0.25 * $0 : $0 },
    Activation(op: "Sigmoid", attributes: []) { 1 / (1 + exp(-$0)) },
    Activation(op: "HardSigmoid", attributes: []) { max(0, min(1, Double(Float(0.2)) * $0 + 0.5)) },
    Activation(op: "HardSigmoid", attributes: [floatAttribute("alpha", Float(1.0 / 6)), floatAttribute("beta", Float(0.5))]) {
        max(0, min(1, Double(Float(1.0 / 6)) * $0 + 0.5))
    },
    Activation(op: "HardSwish", attributes: []) { $0 * max(0, min(1, $0 / 6 + 0.5)) },
    Activation(op: "Tanh", attributes: []) { tanh($0) },
    Activation(op: "Erf", attributes: []) { erf($0) },
    Activation(op: "Gelu", attributes: []) { 0.5 * $0 * (1 + erf($0 / 2.0.squareRoot())) },
    Activation(op: "Gelu", attributes: [attribute("approximate", "tanh")]) {
        0.5 * $0 * (1 + tanh((2 / Double.pi).squareRoot() * ($0 + 0.044715 * $0 * $0 * $0)))
    },
]

@Test(arguments: activations)
func activationMatchesItsFormula(_ activation: Activation) throws {
    try expectBothPrecisions(activation.op, inputs: [("x", samples, [3, 4])], attributes: activation.attributes, opset: 20,
                             expected: samples.map(activation.formula), shape: [3, 4], float32Tolerance: 2e-7)
}

/// The vectorized activation loops (CKernels) against the expressions that define them, bit for
/// bit, on the values where definitions of min, max and comparisons part ways: NaN, signed zeros,
/// infinities and the corners of the hard functions. The bounds let NaN through and Relu keeps
/// −0, as ONNX Runtime 1.32 does (Samples/checks/special_values_ort.py checks the same values
/// against it).
@Test(arguments: [Precision.float32, .float64])
func activationLoopsMatchTheirDefinitionsBitForBit(precision: Precision) throws {
    let special: [Double] = [.nan, -.nan, 0, -0.0, .infinity, -.infinity, -3, 3, -2.5, 2.5, 1e-30, -1e-30, 6, -6, 0.5, -0.5,
                             Double(Float.greatestFiniteMagnitude), 1e300]
    func definitions<T: BinaryFloatingPoint>(_: T.Type) -> [(String, [Attribute], [Double]?, (T) -> T)] {
        func atMost(_ v: T, _ high: T) -> T { high < v ? high : v }
        func atLeast(_ v: T, _ low: T) -> T { v < low ? low : v }
        return [
            ("Relu", [], nil, { $0 < 0 ? 0 : $0 }),
            ("LeakyRelu", [floatAttribute("alpha", Float(0.25))], nil, { $0 >= 0 ? $0 : 0.25 * $0 }),
            ("HardSigmoid", [floatAttribute("alpha", Float(0.25)), floatAttribute("beta", Float(0.5))], nil,
             { atLeast(atMost(0.25 * $0 + 0.5, 1), 0) }),
            ("HardSwish", [], nil, { $0 * atLeast(atMost($0 / 6 + 0.5, 1), 0) }),
            ("Clip", [], [-2, 3], { atMost(atLeast($0, -2), 3) }),
        ]
    }
    func check<T: BinaryFloatingPoint>(_: T.Type, _ run: (String, [(String, Tensor)], [Attribute], [String], [T]) throws -> [T]) throws {
        for (op, attributes, bounds, definition) in definitions(T.self) {
            var constants: [(String, Tensor)] = []
            if let bounds {
                constants = precision == .float32
                    ? [("low", try f32([Float(bounds[0])], [])), ("high", try f32([Float(bounds[1])], []))]
                    : [("low", try f64([bounds[0]], [])), ("high", try f64([bounds[1]], []))]
            }
            let nodeInputs = bounds == nil ? ["x"] : ["x", "low", "high"]
            let x = special.map { T($0) }
            let out = try run(op, constants, attributes, nodeInputs, x)
            try #require(out.count == x.count, "\(op): \(out.count) outputs for \(x.count) inputs")
            for (index, value) in out.enumerated() {
                let expected = definition(x[index])
                let same = value == expected && value.sign == expected.sign || (value.isNaN && expected.isNaN)
                #expect(same, "\(op)(\(x[index])) = \(value), expected \(expected)")
            }
            // NaN never becomes a number.
            #expect(out[0].isNaN && out[1].isNaN, "\(op) turned NaN into \(out[0])")
        }
    }
    if precision == .float32 {
        try check(Float.self) { op, constants, attributes, nodeInputs, x in
            try runSingle(op, inputs: [("x", try f32(x, [x.count]))], constants: constants, attributes: attributes,
                          nodeInputs: nodeInputs, precision: .float32).floats
        }
    } else {
        try check(Double.self) { op, constants, attributes, nodeInputs, x in
            try runSingle(op, inputs: [("x", try f64(x, [x.count]))], constants: constants, attributes: attributes,
                          nodeInputs: nodeInputs, precision: .float64).doubles
        }
    }
}

@Test func sqrtAndPow() throws {
    let positive = samples.map(abs)
    try expectBothPrecisions("Sqrt", inputs: [("x", positive, [12])], expected: positive.map { $0.squareRoot() }, shape: [12],
                             float32Tolerance: 1e-7)
    // Pow with a broadcast exponent row: x^[0.5, 2, 3].
    let base = [1, 4, 9, 0.5, 2, 3.0]
    try expectBothPrecisions("Pow", inputs: [("x", base, [2, 3]), ("y", [0.5, 2, 3], [3])],
                             expected: [1, 16, 729, pow(0.5, 0.5), 4, 27], shape: [2, 3], float32Tolerance: 1e-7)
}

@Test(arguments: [Int64(11), 12, 13])
func clipBoundsAsInputsOrAttributes(opset: Int64) throws {
    // Clip to [−2, 3]: bounds as optional inputs (opset 11 on) or attributes (opset 6).
    let x = try f32(samples.map(Float.init), [12])
    let expected = samples.map { min(max($0, -2), 3) }
    let out = try runSingle("Clip", inputs: [("x", x)], constants: [("lo", try f32([-2], [])), ("hi", try f32([3], []))], opset: opset)
    #expect(out.floats.map(Double.init) == expected)
    let attributeForm = try runSingle("Clip", inputs: [("x", x)], attributes: [floatAttribute("min", Float(-2)), floatAttribute("max", Float(3))], opset: 6)
    #expect(attributeForm.floats.map(Double.init) == expected)
    // Only the upper bound: the empty name skips min.
    let upper = try runSingle("Clip", inputs: [("x", x)], constants: [("hi", try f32([3], []))], nodeInputs: ["x", "", "hi"], opset: opset)
    #expect(upper.floats.map(Double.init) == samples.map { min($0, 3) })
}

/// Elementwise `f` over the numpy broadcast of a and b.
private func broadcastReference(_ a: [Double], _ aShape: [Int], _ b: [Double], _ bShape: [Int], _ f: (Double, Double) -> Double) -> ([Double], [Int]) {
    let (shape, pairs) = broadcastIndexPairs(aShape, bShape)
    return (pairs.map { f(a[$0.0], b[$0.1]) }, shape)
}

@Test(arguments: [
    ([2, 1, 3], [2, 1]), ([4], [3, 1]), ([1, 3, 1, 2], [2, 1, 4, 1]), ([3, 2], [3, 2]), ([2, 3], []), ([], [2, 2]),
])
func binaryOperatorsBroadcastLikeNumPy(aShape: [Int], bShape: [Int]) throws {
    var random = SeededRandom(seed: UInt64(aShape.count * 10 + bShape.count))
    let a = random.values(aShape.reduce(1, *)), b = random.values(bShape.reduce(1, *)).map { $0 + 2 }  // b ≠ 0 for Div
    let operations: [(String, (Double, Double) -> Double)] = [("Add", +), ("Sub", -), ("Mul", *), ("Div", /)]
    for (op, f) in operations {
        let (expected, shape) = broadcastReference(a, aShape, b, bShape, f)
        try expectBothPrecisions(op, inputs: [("x", a, aShape), ("y", b, bShape)], expected: expected, shape: shape, float32Tolerance: 1e-7)
    }
}

@Test func broadcastingByHandAndIncompatibleShapes() throws {
    let out = try runSingle("Add", inputs: [("x", try f32([1, 2, 3, 10, 20, 30], [2, 1, 3])), ("y", try f32([100, 200], [2, 1]))])
    #expect(out.shape == [2, 2, 3])
    #expect(out.floats == [101, 102, 103, 201, 202, 203, 110, 120, 130, 210, 220, 230])
    expectInterpreterError("invalid-node") {
        _ = try runSingle("Mul", inputs: [("x", try f32([1, 2, 3], [3])), ("y", try f32([1, 2], [2]))])
    }
    expectInterpreterError("invalid-node") {  // Add does not mix float and int64
        _ = try runSingle("Add", inputs: [("x", try f32([1], [1]))], constants: [("y", try i64([1]))])
    }
}

@Test func preluSlopePerChannel() throws {
    // Slope [C, 1, 1] against N×C×H×W.
    let x: [Double] = [-1, 2, -3, 4, -5, 6, -7, 8]
    try expectBothPrecisions("PRelu", inputs: [("x", x, [1, 2, 2, 2])], constants: [("slope", [0.5, -2], [2, 1, 1])],
                             expected: [-0.5, 2, -1.5, 4, 10, 6, 14, 8], shape: [1, 2, 2, 2])
    expectInterpreterError("invalid-node") {  // the slope may not widen X
        _ = try runSingle("PRelu", inputs: [("x", try f32([1, 2], [2]))], constants: [("s", try f32([1, 2, 3, 4], [2, 2]))])
    }
}

@Test func integerArithmeticForShapes() throws {
    let a = try i64([7, -7, 9, 100]), b = try i64([2, 2, -4, 7])
    #expect(try runSingle("Add", constants: [("a", a), ("b", b)]).int64s == [9, -5, 5, 107])
    #expect(try runSingle("Mul", constants: [("a", a), ("b", b)]).int64s == [14, -14, -36, 700])
    // Integer division truncates toward zero (C, ONNX Runtime), unlike numpy's floor.
    #expect(try runSingle("Div", constants: [("a", a), ("b", b)]).int64s == [3, -3, -2, 14])
    expectInterpreterError("invalid-node") { _ = try runSingle("Div", constants: [("a", a), ("b", try i64([1, 0, 1, 1]))]) }
    // Pow keeps the base's type: int64 base, float exponent → int64.
    let power = try runSingle("Pow", constants: [("a", try i64([2, 3, -2])), ("b", try f32([3, 0.5, 2], [3]))])
    #expect(power.elementType == .int64)
    #expect(power.int64s == [8, 1, 4])  // 3^0.5 = 1.73… truncates to 1
    let floatBase = try runSingle("Pow", constants: [("a", try f32([2, 3], [2])), ("b", try i64([5, 2]))])
    #expect(floatBase.floats == [32, 9])
}
