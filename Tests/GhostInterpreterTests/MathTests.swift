import Foundation
import GhostInterpreter
import GhostIR
import Testing
import TestSupport

// Elementwise math, Hardmax, LogSoftmax, variadic Min/Max/Sum/Mean and Mod, each against its
// formula written out here; NaN and ±inf behaviour pinned to what ONNX Runtime 1.32 returns.

/// One op in one precision on a 1-D input given as Double (fed as that precision's tensor).
func mathValues(_ op: String, _ x: [Double], _ precision: Precision, attributes: [Attribute] = [], opset: Int64 = 18) throws -> [Double] {
    let input = precision == .float32 ? try f32(x.map { Float($0) }, [x.count]) : try f64(x, [x.count])
    let out = try runSingle(op, inputs: [("x", input)], attributes: attributes, opset: opset, precision: precision)
    return precision == .float32 ? out.floats.map(Double.init) : out.doubles
}

/// Equal including the sign of zero, or both NaN.
func sameValue(_ a: Double, _ b: Double) -> Bool {
    (a.isNaN && b.isNaN) || (a == b && a.sign == b.sign)
}

private let samples: [Double] = [-7, -3.5, -3, -1, -0.25, 0, 0.125, 0.5, 1, 2.75, 3, 6.5]
private let unit: [Double] = [-0.96875, -0.75, -0.5, -0.25, -0.125, 0, 0.0625, 0.25, 0.5, 0.75, 0.875, 0.9375]
private let seluAlpha = Double(Float(1.67326319217681884765625)), seluGamma = Double(Float(1.05070102214813232421875))

struct MathCase: CustomTestStringConvertible, Sendable {
    let op: String
    var attributes: [Attribute] = []
    var inputs = samples
    let formula: @Sendable (Double) -> Double
    var testDescription: String { op + (attributes.isEmpty ? "" : " " + attributes.map(\.name).joined(separator: ",")) }
}

private let mathCases: [MathCase] = [
    MathCase(op: "Exp") { exp($0) },
    MathCase(op: "Log", inputs: samples.map { abs($0) + 0.5 }) { log($0) },
    MathCase(op: "Neg") { -$0 },
    MathCase(op: "Abs") { abs($0) },
    MathCase(op: "Reciprocal", inputs: samples.map { $0 + 0.0625 }) { 1 / $0 },
    MathCase(op: "Floor") { $0.rounded(.down) },
    MathCase(op: "Ceil") { $0.rounded(.up) },
    MathCase(op: "Round", inputs: [-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 3.5, -3.49, 2.51, 0.49, 7, -7]) { $0.rounded(.toNearestOrEven) },
    MathCase(op: "Sign") { $0 > 0 ? 1 : $0 < 0 ? -1 : 0 },
    MathCase(op: "Sin") { sin($0) },
    MathCase(op: "Cos") { cos($0) },
    MathCase(op: "Tan", inputs: unit) { tan($0) },
    MathCase(op: "Atan") { atan($0) },
    MathCase(op: "Asin", inputs: unit) { asin($0) },
    MathCase(op: "Acos", inputs: unit) { acos($0) },
    MathCase(op: "Sinh") { sinh($0) },
    MathCase(op: "Cosh") { cosh($0) },
    MathCase(op: "Asinh") { asinh($0) },
    MathCase(op: "Acosh", inputs: samples.map { abs($0) + 1 }) { acosh($0) },
    MathCase(op: "Atanh", inputs: unit) { atanh($0) },
    MathCase(op: "Softplus") { log(1 + exp($0)) },
    MathCase(op: "Softsign") { $0 / (1 + abs($0)) },
    MathCase(op: "Mish") { $0 * tanh(log(1 + exp($0))) },
    MathCase(op: "Elu") { $0 >= 0 ? $0 : exp($0) - 1 },
    MathCase(op: "Elu", attributes: [floatAttribute("alpha", 2)]) { $0 >= 0 ? $0 : 2 * (exp($0) - 1) },
    MathCase(op: "Selu") { $0 > 0 ? seluGamma * $0 : seluGamma * seluAlpha * (exp($0) - 1) },
    MathCase(op: "Selu", attributes: [floatAttribute("alpha", 2), floatAttribute("gamma", 3)]) { $0 > 0 ? 3 * $0 : 6 * (exp($0) - 1) },
    MathCase(op: "Celu") { max(0, $0) + min(0, exp($0) - 1) },
    MathCase(op: "Celu", attributes: [floatAttribute("alpha", 2)]) { max(0, $0) + min(0, 2 * (exp($0 / 2) - 1)) },
    MathCase(op: "ThresholdedRelu") { $0 > 1 ? $0 : 0 },
    MathCase(op: "ThresholdedRelu", attributes: [floatAttribute("alpha", 2.75)]) { $0 > 2.75 ? $0 : 0 },
]

@Test(arguments: mathCases)
func unaryMathMatchesItsFormula(_ c: MathCase) throws {
    try expectBothPrecisions(c.op, inputs: [("x", c.inputs, [3, 4])], attributes: c.attributes, opset: 18,
                             expected: c.inputs.map(c.formula), shape: [3, 4], float32Tolerance: 4e-7)
}

/// NaN, signed zeros, infinities and huge values, per op, as ONNX Runtime 1.32 returns them (its
/// outputs for these inputs were read off a float32 and a float64 session).
@Test(arguments: [Precision.float32, .float64])
func unaryMathSpecialValuesMatchONNXRuntime(precision: Precision) throws {
    let nan = Double.nan, inf = Double.infinity
    let x: [Double] = [nan, -0.0, 0, inf, -inf, 1e30, -1e30, 0.5, -0.5, 2.5]
    let selu = -seluGamma * seluAlpha
    let cases: [(String, [Attribute], [Double])] = [
        ("Abs", [], [nan, 0, 0, inf, inf, 1e30, 1e30, 0.5, 0.5, 2.5]),
        ("Neg", [], [nan, 0, -0.0, -inf, inf, -1e30, 1e30, -0.5, 0.5, -2.5]),
        ("Sign", [], [nan, 0, 0, 1, -1, 1, -1, 1, -1, 1]),
        ("Round", [], [nan, -0.0, 0, inf, -inf, 1e30, -1e30, 0, -0.0, 2]),
        ("Floor", [], [nan, -0.0, 0, inf, -inf, 1e30, -1e30, 0, -1, 2]),
        ("Ceil", [], [nan, -0.0, 0, inf, -inf, 1e30, -1e30, 1, -0.0, 3]),
        ("Reciprocal", [], [nan, -inf, inf, 0, -0.0, 1e-30, -1e-30, 2, -2, 0.4]),
        ("Exp", [], [nan, 1, 1, inf, 0, inf, 0, exp(0.5), exp(-0.5), exp(2.5)]),
        ("Log", [], [nan, -inf, -inf, inf, nan, log(1e30), nan, log(0.5), nan, log(2.5)]),
        // Softplus does not overflow: x + log1p(e^−x) for x > 0.
        ("Softplus", [], [nan, log(2), log(2), inf, 0, 1e30, 0, log1p(exp(-0.5)) + 0.5, log1p(exp(-0.5)), 2.5 + log1p(exp(-2.5))]),
        // Mish(−inf) = −inf · tanh(0) = NaN, Mish(−1e30) = −0.
        ("Mish", [], [nan, -0.0, 0, inf, nan, 1e30, -0.0, 0.5 * tanh(0.5 + log1p(exp(-0.5))), -0.5 * tanh(log1p(exp(-0.5))),
                      2.5 * tanh(2.5 + log1p(exp(-2.5)))]),
        ("Softsign", [], [nan, -0.0, 0, nan, nan, 1, -1, 0.5 / 1.5, -0.5 / 1.5, 2.5 / 3.5]),
        ("Elu", [], [nan, -0.0, 0, inf, -1, 1e30, -1, 0.5, expm1(-0.5), 2.5]),
        ("Selu", [], [nan, 0, 0, inf, selu, seluGamma * 1e30, selu, seluGamma * 0.5, -selu * expm1(-0.5), seluGamma * 2.5]),
        ("Celu", [], [nan, 0, 0, inf, -1, 1e30, -1, 0.5, expm1(-0.5), 2.5]),
        ("ThresholdedRelu", [], [0, 0, 0, inf, 0, 1e30, 0, 0, 0, 2.5]),
    ]
    for (op, attributes, expected) in cases {
        let values = precision == .float32 ? x.map { Double(Float($0)) } : x
        let want = precision == .float32 ? expected.map { Double(Float($0)) } : expected
        let out = try mathValues(op, values, precision, attributes: attributes)
        for (index, value) in out.enumerated() {
            let close = abs(value - want[index]) <= 2e-7 * abs(want[index]) && value.sign == want[index].sign
            #expect(sameValue(value, want[index]) || close, "\(op)(\(values[index])) \(precision) = \(value), expected \(want[index])")
        }
    }
}

@Test func softplusAndMishOfLargeInputsDoNotOverflowInFloat32() throws {
    let x: [Double] = [-1e4, -100, -20, 20, 30, 88, 89, 100, 1e4]
    let softplus = try mathValues("Softplus", x, .float32)
    #expect(softplus[0] == 0)
    // e^−100 is a float32 subnormal; log1p keeps it.
    #expect(abs(softplus[1] - 3.7835059e-44) < 2e-45)
    #expect(abs(softplus[2] - 2.0611537e-9) < 1e-15)
    #expect(Array(softplus[3...]) == [20, 30, 88, 89, 100, 1e4])
    let mish = try mathValues("Mish", x, .float32)
    #expect(mish[0] == 0 && mish[0].sign == .minus && mish[1].sign == .minus)
    #expect(abs(mish[2] - -4.1223068e-08) < 1e-14)
    #expect(Array(mish[3...]) == [20, 30, 88, 89, 100, 1e4])
}

@Test func integerAbsNegAndSignKeepTheirTypeAndWrap() throws {
    let int64 = try i64([.min, -3, 0, 5, .max])
    #expect(try runSingle("Abs", inputs: [("x", int64)]).int64s == [.min, 3, 0, 5, .max])
    #expect(try runSingle("Neg", inputs: [("x", int64)]).int64s == [.min, 3, 0, -5, -.max])
    #expect(try runSingle("Sign", inputs: [("x", int64)]).int64s == [-1, -1, 0, 1, 1])
    let int32 = try Tensor(elementType: .int32, shape: [3], storage: TensorStorage(values: [Int32.min, -7, 9]))
    let negated = try runSingle("Neg", inputs: [("x", int32)])
    #expect(negated.elementType == .int32)
    #expect(negated.elements(as: Int32.self) == [Int32.min, 7, -9])
    #expect(try runSingle("Abs", inputs: [("x", int32)]).elements(as: Int32.self) == [Int32.min, 7, 9])
    let uint64 = try Tensor(elementType: .uint64, shape: [3], storage: TensorStorage(values: [UInt64.max, 0, 4]))
    #expect(try runSingle("Sign", inputs: [("x", uint64)]).elements(as: UInt64.self) == [1, 0, 1])
    #expect(try runSingle("Abs", inputs: [("x", uint64)]).elements(as: UInt64.self) == [UInt64.max, 0, 4])
    let uint8 = try Tensor(elementType: .uint8, shape: [1], storage: TensorStorage(values: [UInt8(3)]))
    expectInterpreterError("invalid-node") { _ = try runSingle("Neg", inputs: [("x", uint8)]) }
    expectInterpreterError("invalid-node") { _ = try runSingle("Floor", inputs: [("x", int64)]) }
    expectInterpreterError("invalid-node") { _ = try runSingle("Exp", inputs: [("x", int64)]) }
    let flag = try Tensor(elementType: .bool, shape: [1], storage: TensorStorage(values: [UInt8(1)]))
    expectInterpreterError("invalid-node") { _ = try runSingle("Abs", inputs: [("x", flag)]) }
    expectInterpreterError("invalid-node") { _ = try runSingle("Celu", inputs: [("x", try f32([1], [1]))], attributes: [floatAttribute("alpha", 0)]) }
}

// MARK: - Hardmax and LogSoftmax

/// (outer, size, inner) of a lane layout as the spec defines it per opset.
private func lanes(_ shape: [Int], axis: Int, opset: Int64) -> (Int, Int, Int) {
    let a = axis < 0 ? axis + shape.count : axis
    let outer = shape[..<a].reduce(1, *)
    if opset >= 13 { return (outer, shape[a], shape[(a + 1)...].reduce(1, *)) }
    return (outer, shape[a...].reduce(1, *), 1)
}

@Test(arguments: [(Int64(11), 1), (11, 0), (11, 2), (11, -1), (13, 1), (13, 0), (13, -1), (13, 2)])
func hardmaxAndLogSoftmaxFollowTheirAxisRules(opset: Int64, axis: Int) throws {
    let shape = [2, 3, 4]
    var seeded = SeededRandom(seed: 7)
    // Coarse values so that lanes have ties (the first index wins).
    let x = seeded.values(24).map { ($0 * 4).rounded() }
    let (outer, size, inner) = lanes(shape, axis: axis, opset: opset)
    var hard = [Double](repeating: 0, count: 24), logs = [Double](repeating: 0, count: 24)
    for o in 0..<outer {
        for i in 0..<inner {
            let indices = (0..<size).map { (o * size + $0) * inner + i }
            let peak = indices.map { x[$0] }.max() ?? 0
            let first = indices.first { x[$0] == peak } ?? 0
            hard[first] = 1
            let logSum = log(indices.map { exp(x[$0] - peak) }.reduce(0, +))
            for index in indices { logs[index] = x[index] - peak - logSum }
        }
    }
    let attributes = [attribute("axis", Int64(axis))]
    try expectBothPrecisions("Hardmax", inputs: [("x", x, shape)], attributes: attributes, opset: opset, expected: hard, shape: shape)
    try expectBothPrecisions("LogSoftmax", inputs: [("x", x, shape)], attributes: attributes, opset: opset, expected: logs, shape: shape,
                             float32Tolerance: 1e-6)
}

@Test func hardmaxAndLogSoftmaxDefaultAxesDependOnTheOpset() throws {
    let x: [Double] = [1, 5, 2, 7, 3, 4]
    // [1, 2, 3] by default: before opset 13, axis 1 coerced to 2-D (one lane of all six); from 13,
    // axis −1 (two lanes of three).
    try expectBothPrecisions("Hardmax", inputs: [("x", x, [1, 2, 3])], opset: 11, expected: [0, 0, 0, 1, 0, 0], shape: [1, 2, 3])
    try expectBothPrecisions("Hardmax", inputs: [("x", x, [1, 2, 3])], opset: 13, expected: [0, 1, 0, 1, 0, 0], shape: [1, 2, 3])
}

@Test(arguments: [Precision.float32, .float64])
func hardmaxAndLogSoftmaxSpecialValues(precision: Precision) throws {
    let nan = Double.nan, inf = Double.infinity
    func run(_ op: String, _ x: [Double], _ shape: [Int]) throws -> [Double] {
        let input = precision == .float32 ? try f32(x.map { Float($0) }, shape) : try f64(x, shape)
        let out = try runSingle(op, inputs: [("x", input)], opset: 13, precision: precision)
        return precision == .float32 ? out.floats.map(Double.init) : out.doubles
    }
    // Lanes shorter than a packet: std::max from the first element, so a NaN after it is passed
    // over and a lane starting with NaN is all 0 (no element equals a NaN maximum).
    let hard = try run("Hardmax", [1, nan, 3, nan, nan, 1, 2, 2, 1, -inf, -inf, -inf, 1, nan, 5], [5, 3])
    #expect(hard == [0, 0, 1, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 1])
    // Longer lanes: ONNX Runtime's maximum is Eigen's vectorized one (packets of four from the
    // first 16-byte-aligned element), in which a NaN survives only as std::max's left operand.
    // These are ONNX Runtime 1.32's outputs.
    let packets = try run("Hardmax", [0, 0, 0, 0, 0, 0, nan, 1, 5, 0, 0, 0], [2, 6])
    #expect(packets == [1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0])
    let rows = try run("Hardmax", [0, nan, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0, 0, nan, 0, 5, 0, nan, 0, 5, 1, 1, 1, 1], [3, 8])
    #expect(rows == [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0])
    // Axis 1 of [2, 8, 3]: ONNX Runtime reduces the rows of the input with axes 1 and 2 swapped.
    var middle = [Double](repeating: 0, count: 48)
    middle[3] = nan; middle[21] = 5; middle[24 + 5] = nan; middle[24 + 23] = 5
    let swapped = try runSingle("Hardmax", inputs: [("x", precision == .float32 ? try f32(middle.map { Float($0) }, [2, 8, 3]) : try f64(middle, [2, 8, 3]))],
                                attributes: [attribute("axis", Int64(1))], opset: 13, precision: precision)
    var expected = [Double](repeating: 0, count: 48)
    for index in [0, 1, 2, 24, 25, 26] { expected[index] = 1 }
    #expect((precision == .float32 ? swapped.floats.map(Double.init) : swapped.doubles) == expected)
    let logs = try run("LogSoftmax", [1, inf, nan, 1, -inf, -inf, 1000, 0], [4, 2])
    let nanLanes = logs[0..<6].allSatisfy { $0.isNaN }
    #expect(nanLanes)
    #expect(Array(logs[6...]) == [0, -1000])
    expectInterpreterError("invalid-node") { _ = try runSingle("LogSoftmax", inputs: [("x", try f32([1, 2], [2]))], attributes: [attribute("axis", Int64(1))]) }
    expectInterpreterError("invalid-node") { _ = try runSingle("Hardmax", inputs: [("x", try i64([1, 2]))]) }
}

// MARK: - Variadic Max, Min, Sum, Mean

/// Flat indices into `shape` (right-aligned) for each element of `target`, in C order.
func broadcastIndices(_ shape: [Int], into target: [Int]) -> [Int] {
    let padded = [Int](repeating: 1, count: target.count - shape.count) + shape
    return (0..<target.reduce(1, *)).map { flat in
        var remainder = flat, index = 0, stride = 1
        for axis in target.indices.reversed() {
            let position = remainder % target[axis]
            remainder /= target[axis]
            index += (padded[axis] == 1 ? 0 : position) * stride
            stride *= padded[axis]
        }
        return index
    }
}

@Test(arguments: ["Max", "Min", "Sum", "Mean"])
func variadicOpsBroadcastThreeShapes(op: String) throws {
    let shapes = [[2, 1, 3], [4, 1], [3]], target = [2, 4, 3]
    var seeded = SeededRandom(seed: 11)
    let inputs = shapes.map { seeded.values($0.reduce(1, *)) }
    let maps = shapes.map { broadcastIndices($0, into: target) }
    let expected = (0..<24).map { i -> Double in
        let terms = (0..<3).map { inputs[$0][maps[$0][i]] }
        switch op {
        case "Max": return terms.max() ?? 0
        case "Min": return terms.min() ?? 0
        case "Sum": return terms.reduce(0, +)
        default: return terms.reduce(0, +) / 3
        }
    }
    try expectBothPrecisions(op, inputs: [("a", inputs[0], shapes[0]), ("b", inputs[1], shapes[1]), ("c", inputs[2], shapes[2])],
                             opset: 13, expected: expected, shape: target, float32Tolerance: 3e-7)
    // One input: itself.
    try expectBothPrecisions(op, inputs: [("a", inputs[1], shapes[1])], opset: 13, expected: inputs[1], shape: shapes[1])
}

@Test(arguments: [Precision.float32, .float64])
func maxAndMinPropagateNaNAndMeanScalesBySum(precision: Precision) throws {
    let nan = Double.nan, inf = Double.infinity
    func run(_ op: String, _ inputs: [[Double]]) throws -> [Double] {
        let feeds = try inputs.enumerated().map { ("x\($0.offset)", precision == .float32 ? try f32($0.element.map { Float($0) }, [$0.element.count]) : try f64($0.element, [$0.element.count])) }
        let out = try runSingle(op, inputs: feeds, opset: 13, precision: precision)
        return precision == .float32 ? out.floats.map(Double.init) : out.doubles
    }
    let a: [Double] = [nan, 1, nan, -inf, 3], b: [Double] = [1, nan, nan, inf, 2]
    let max = try run("Max", [a, b, [2, 2, 2, 2, 2]]), min = try run("Min", [a, b, [2, 2, 2, 2, 2]])
    let maxNaN = max[0..<3].allSatisfy { $0.isNaN }, minNaN = min[0..<3].allSatisfy { $0.isNaN }
    #expect(maxNaN && Array(max[3...]) == [inf, 3])
    #expect(minNaN && Array(min[3...]) == [-inf, 2])
    #expect(try run("Sum", [[inf, 1], [-inf, 2]]).first?.isNaN == true)
    // Mean is (a + b + c) · (1/3) in the run's precision, as ONNX Runtime computes it.
    let mean = try run("Mean", [[1, 2], [2, 5], [4, 4]])
    if precision == .float32 {
        let third = Float(1) / 3
        let first: Float = (1 + 2 + 4) * third, second: Float = (2 + 5 + 4) * third
        #expect(mean == [Double(first), Double(second)])
    } else {
        let third = 1.0 / 3
        #expect(mean == [7 * third, 11 * third])
    }
}

@Test func variadicIntegersAndErrors() throws {
    let a = try Tensor(elementType: .int32, shape: [3], storage: TensorStorage(values: [Int32(-5), 7, 0]))
    let b = try Tensor(elementType: .int32, shape: [2, 1], storage: TensorStorage(values: [Int32(1), -9]))
    let max = try runSingle("Max", inputs: [("a", a), ("b", b)], opset: 13)
    #expect(max.elementType == .int32 && max.shape == [2, 3])
    #expect(max.elements(as: Int32.self) == [1, 7, 1, -5, 7, 0])
    #expect(try runSingle("Min", inputs: [("a", a), ("b", b)], opset: 13).elements(as: Int32.self) == [-5, 1, 0, -9, -9, -9])
    // uint64 compares unsigned: 2^64 − 1 is the largest.
    let u = try Tensor(elementType: .uint64, shape: [2], storage: TensorStorage(values: [UInt64.max, 3]))
    let v = try Tensor(elementType: .uint64, shape: [2], storage: TensorStorage(values: [UInt64(1), 1 << 63]))
    #expect(try runSingle("Max", inputs: [("u", u), ("v", v)], opset: 13).elements(as: UInt64.self) == [UInt64.max, 1 << 63])
    #expect(try runSingle("Min", inputs: [("u", u), ("v", v)], opset: 13).elements(as: UInt64.self) == [1, 3])
    // Sum and Mean are floating-point only in the spec (ONNX Runtime rejects integer Sum).
    expectInterpreterError("invalid-node") { _ = try runSingle("Sum", inputs: [("a", a), ("b", b)], opset: 13) }
    expectInterpreterError("invalid-node") { _ = try runSingle("Mean", inputs: [("a", a)], opset: 13) }
    // Mixed types, shapes that do not broadcast.
    expectInterpreterError("invalid-node") { _ = try runSingle("Max", inputs: [("a", a), ("f", try f32([1, 2, 3], [3]))], opset: 13) }
    expectInterpreterError("invalid-node") { _ = try runSingle("Max", inputs: [("a", try i64([1, 2, 3])), ("b", a)], opset: 13) }
    expectInterpreterError("invalid-node") {
        _ = try runSingle("Sum", inputs: [("a", try f32([1, 2, 3], [3])), ("b", try f32([1, 2], [2])), ("c", try f32([1], [1]))], opset: 13)
    }
}

// MARK: - Mod

@Test(arguments: [Precision.float32, .float64])
func floatModIsCFmodWithFmodOne(precision: Precision) throws {
    let nan = Double.nan, inf = Double.infinity
    let x: [Double] = [-7, 7, -7, 7, 0, 5, -5, inf, -inf, 5, 5, -0.0, nan, 5.5, -5.5]
    let y: [Double] = [3, -3, -3, 3, 3, 0, 0, 2, 2, inf, -inf, 3, 1, 2, 2]
    // As ONNX Runtime returns them: the sign of the dividend.
    let expected: [Double] = [-1, 1, -1, 1, 0, nan, nan, nan, nan, 5, 5, -0.0, nan, 1.5, -1.5]
    let feed: ([Double]) throws -> Tensor = { precision == .float32 ? try f32($0.map { Float($0) }, [$0.count]) : try f64($0, [$0.count]) }
    let out = try runSingle("Mod", inputs: [("x", try feed(x)), ("y", try feed(y))], attributes: [attribute("fmod", Int64(1))],
                            opset: 13, precision: precision)
    let values = precision == .float32 ? out.floats.map(Double.init) : out.doubles
    for index in x.indices { #expect(sameValue(values[index], expected[index]), "fmod(\(x[index]), \(y[index])) = \(values[index])") }
    // fmod = 0 on floats is outside the spec before opset 28 (ONNX Runtime refuses it too).
    expectInterpreterError("invalid-node") { _ = try runSingle("Mod", inputs: [("x", try feed(x)), ("y", try feed(y))], opset: 13, precision: precision) }
    expectInterpreterError("unsupported-attribute") {
        _ = try runSingle("Mod", inputs: [("x", try feed(x)), ("y", try feed(y))], attributes: [attribute("fmod", Int64(2))], opset: 13)
    }
}

@Test(arguments: [Precision.float32, .float64])
func floatFlooredModFromOpset28(precision: Precision) throws {
    let nan = Double.nan, inf = Double.infinity
    // The edge cases of ONNX's own opset-28 test: a zero result takes the divisor's sign.
    let x: [Double] = [0, -0.0, 0, -0.0, -3, 3, -1, 1, inf, -inf, 1, 1, nan, 1, -4.25, 7.5]
    let y: [Double] = [-2, 2, 2, -2, inf, inf, -inf, -inf, 2, 2, 0, -0.0, 2, nan, 2, -2]
    let expected: [Double] = [-0.0, 0, 0, -0.0, inf, 3, -1, -inf, nan, nan, nan, nan, nan, nan, 1.75, -0.5]
    let feed: ([Double]) throws -> Tensor = { precision == .float32 ? try f32($0.map { Float($0) }, [$0.count]) : try f64($0, [$0.count]) }
    let out = try runSingle("Mod", inputs: [("x", try feed(x)), ("y", try feed(y))], opset: 28, precision: precision)
    let values = precision == .float32 ? out.floats.map(Double.init) : out.doubles
    for index in x.indices { #expect(sameValue(values[index], expected[index]), "mod(\(x[index]), \(y[index])) = \(values[index])") }
}

@Test func integerModFloorsOrTruncatesAndRefusesZero() throws {
    let x = try i64([-7, 7, -7, 7, .min, 0]), y = try i64([3, -3, -3, 3, -1, 5])
    #expect(try runSingle("Mod", inputs: [("x", x), ("y", y)], opset: 13).int64s == [2, -2, -1, 1, 0, 0])
    #expect(try runSingle("Mod", inputs: [("x", x), ("y", y)], attributes: [attribute("fmod", Int64(1))], opset: 13).int64s == [-1, 1, -1, 1, 0, 0])
    // Broadcast: [2, 1] against [3]; int32 keeps its type.
    let a = try Tensor(elementType: .int32, shape: [2, 1], storage: TensorStorage(values: [Int32(10), -10]))
    let b = try Tensor(elementType: .int32, shape: [3], storage: TensorStorage(values: [Int32(3), -4, 7]))
    let mod = try runSingle("Mod", inputs: [("a", a), ("b", b)], opset: 13)
    #expect(mod.elementType == .int32 && mod.shape == [2, 3])
    // Python: 10 % 3 = 1, 10 % −4 = −2, 10 % 7 = 3, −10 % 3 = 2, −10 % −4 = −2, −10 % 7 = 4.
    #expect(mod.elements(as: Int32.self) == [1, -2, 3, 2, -2, 4])
    let u = try Tensor(elementType: .uint64, shape: [2], storage: TensorStorage(values: [UInt64.max, 10]))
    let v = try Tensor(elementType: .uint64, shape: [2], storage: TensorStorage(values: [UInt64(10), 4]))
    #expect(try runSingle("Mod", inputs: [("u", u), ("v", v)], opset: 13).elements(as: UInt64.self) == [UInt64.max % 10, 2])
    expectInterpreterError("invalid-node") { _ = try runSingle("Mod", inputs: [("x", x), ("z", try i64([1, 0, 1, 1, 1, 1]))], opset: 13) }
    expectInterpreterError("invalid-node") { _ = try runSingle("Mod", inputs: [("x", x), ("f", try f32([1], [1]))], opset: 13) }
    expectInterpreterError("invalid-node") { _ = try runSingle("Mod", inputs: [("a", a), ("x", x)], opset: 13) }
    expectInterpreterError("invalid-node") { _ = try runSingle("Mod", inputs: [("x", x), ("b", try i64([1, 2]))], opset: 13) }
}
