import Foundation
import GhostInterpreter
import GhostIR
import Testing
import TestSupport

// Comparisons, logic, Where, IsNaN and IsInf against formulas written out here, with numpy
// broadcasting done by explicit index arithmetic (`broadcastIndexPairs`).

private func bools(_ values: [Bool], _ shape: [Int]) throws -> Tensor {
    try Tensor(elementType: .bool, shape: shape, storage: TensorStorage(values: values.map { UInt8($0 ? 1 : 0) }))
}

private extension Tensor {
    var bools: [Bool] { elements(as: UInt8.self).map { $0 != 0 } }
}

private let predicates: [(String, @Sendable (Double, Double) -> Bool)] = [
    ("Equal", { $0 == $1 }), ("Less", { $0 < $1 }), ("LessOrEqual", { $0 <= $1 }),
    ("Greater", { $0 > $1 }), ("GreaterOrEqual", { $0 >= $1 }),
]

@Test(arguments: [Precision.float32, .float64])
func comparisonsBroadcastAndTreatNaNAsIEEEDoes(precision: Precision) throws {
    let nan = Double.nan, inf = Double.infinity
    // [2, 3, 1] against [4]: NaN, ±0, ±inf and equal values on both sides.
    let a: [Double] = [nan, 0, -0.0, 1, inf, -inf]
    let b: [Double] = [0, 1, nan, -inf]
    let (shape, pairs) = broadcastIndexPairs([2, 3, 1], [4])
    let feed: ([Double], [Int]) throws -> Tensor = { values, shape in
        precision == .float32 ? try f32(values.map { Float($0) }, shape) : try f64(values, shape)
    }
    for (op, predicate) in predicates {
        let out = try runSingle(op, inputs: [("a", try feed(a, [2, 3, 1])), ("b", try feed(b, [4]))], opset: 13, precision: precision)
        #expect(out.elementType == .bool && out.shape == shape)
        #expect(out.bools == pairs.map { predicate(a[$0.0], b[$0.1]) }, "\(op) \(precision)")
    }
}

@Test func comparisonsOnIntegersAndBools() throws {
    let a: [Int64] = [.min, -1, 0, 5, .max], b: [Int64] = [-1, 5]
    let (shape, pairs) = broadcastIndexPairs([5, 1], [2])
    for (op, _) in predicates {
        let out = try runSingle(op, inputs: [("a", try i64(a, [5, 1])), ("b", try i64(b, [2]))], opset: 13)
        #expect(out.shape == shape)
        // Compared as integers, not through Double.
        let expected = pairs.map { pair -> Bool in
            let (x, y) = (a[pair.0], b[pair.1])
            switch op {
            case "Equal": return x == y
            case "Less": return x < y
            case "LessOrEqual": return x <= y
            case "Greater": return x > y
            default: return x >= y
            }
        }
        #expect(out.bools == expected, "\(op)")
    }
    // uint64 compares unsigned: 2^64 − 1 > 1.
    let u = try Tensor(elementType: .uint64, shape: [2], storage: TensorStorage(values: [UInt64.max, 1]))
    let v = try Tensor(elementType: .uint64, shape: [2], storage: TensorStorage(values: [UInt64(1), 1]))
    #expect(try runSingle("Greater", inputs: [("u", u), ("v", v)], opset: 13).bools == [true, false])
    #expect(try runSingle("LessOrEqual", inputs: [("u", u), ("v", v)], opset: 13).bools == [false, true])
    let int8a = try Tensor(elementType: .int8, shape: [3], storage: TensorStorage(values: [Int8(-128), 0, 127]))
    let int8b = try Tensor(elementType: .int8, shape: [1], storage: TensorStorage(values: [Int8(0)]))
    #expect(try runSingle("Less", inputs: [("a", int8a), ("b", int8b)], opset: 13).bools == [true, false, false])
    // Equal takes bools; the ordering comparisons do not (the spec types them numeric).
    let p = try bools([true, false, true], [3]), q = try bools([true], [1])
    #expect(try runSingle("Equal", inputs: [("p", p), ("q", q)], opset: 13).bools == [true, false, true])
    expectInterpreterError("invalid-node") { _ = try runSingle("Less", inputs: [("p", p), ("q", q)], opset: 13) }
    // Mismatched types, shapes that do not broadcast.
    expectInterpreterError("invalid-node") { _ = try runSingle("Equal", inputs: [("a", try i64([1])), ("f", try f32([1], [1]))], opset: 13) }
    expectInterpreterError("invalid-node") { _ = try runSingle("Greater", inputs: [("a", int8a), ("b", try i64([1]))], opset: 13) }
    expectInterpreterError("invalid-node") { _ = try runSingle("Less", inputs: [("a", try f32([1, 2, 3], [3])), ("b", try f32([1, 2], [2]))], opset: 13) }
}

@Test func logicalOperatorsBroadcastTheirTruthTables() throws {
    let a = [true, true, false, false, true, false], b = [true, false, true, false]
    let (shape, pairs) = broadcastIndexPairs([3, 2, 1], [4])
    let tables: [(String, (Bool, Bool) -> Bool)] = [("And", { $0 && $1 }), ("Or", { $0 || $1 }), ("Xor", { $0 != $1 })]
    for (op, table) in tables {
        let out = try runSingle(op, inputs: [("a", try bools(a, [3, 2, 1])), ("b", try bools(b, [4]))], opset: 13)
        #expect(out.shape == shape && out.elementType == .bool)
        #expect(out.bools == pairs.map { table(a[$0.0], b[$0.1]) }, "\(op)")
    }
    #expect(try runSingle("Not", inputs: [("a", try bools(a, [2, 3]))]).bools == a.map { !$0 })
    expectInterpreterError("invalid-node") { _ = try runSingle("And", inputs: [("a", try bools(a, [6])), ("b", try i64([1]))]) }
    expectInterpreterError("invalid-node") { _ = try runSingle("Or", inputs: [("a", try bools(a, [6])), ("b", try bools(b, [4]))]) }
    expectInterpreterError("invalid-node") { _ = try runSingle("Not", inputs: [("a", try f32([1], [1]))]) }
}

@Test(arguments: [Precision.float32, .float64])
func whereBroadcastsThreeWays(precision: Precision) throws {
    // condition [2, 1, 1], X [1, 3, 1], Y [4] → [2, 3, 4].
    let condition = [true, false]
    var seeded = SeededRandom(seed: 3)
    let x = seeded.values(3), y = seeded.values(4)
    let target = [2, 3, 4]
    let cMap = broadcastIndices([2, 1, 1], into: target), xMap = broadcastIndices([1, 3, 1], into: target)
    let yMap = broadcastIndices([4], into: target)
    let expected = (0..<24).map { condition[cMap[$0]] ? x[xMap[$0]] : y[yMap[$0]] }
    let feed: ([Double], [Int]) throws -> Tensor = { values, shape in
        precision == .float32 ? try f32(values.map { Float($0) }, shape) : try f64(values, shape)
    }
    let out = try runSingle("Where", inputs: [("c", try bools(condition, [2, 1, 1])), ("x", try feed(x, [1, 3, 1])), ("y", try feed(y, [4]))],
                            opset: 16, precision: precision)
    #expect(out.shape == target)
    let values = precision == .float32 ? out.floats.map(Double.init) : out.doubles
    let want = precision == .float32 ? expected.map { Double(Float($0)) } : expected
    #expect(values == want)
    // All contiguous, and NaN passed through untouched.
    let nan = Double.nan
    let same = try runSingle("Where", inputs: [("c", try bools([true, false, true], [3])), ("x", try feed([nan, 1, 2], [3])),
                                               ("y", try feed([5, nan, 7], [3]))], opset: 16, precision: precision)
    let picked = precision == .float32 ? same.floats.map(Double.init) : same.doubles
    #expect(picked[0].isNaN && picked[1].isNaN && picked[2] == 2)
}

@Test func whereKeepsIntegerAndBoolTypesAndChecksItsInputs() throws {
    let condition = try bools([true, false, false, true], [2, 2])
    let x = try Tensor(elementType: .int32, shape: [2, 1], storage: TensorStorage(values: [Int32(1), 2]))
    let y = try Tensor(elementType: .int32, shape: [2], storage: TensorStorage(values: [Int32(-5), -6]))
    let out = try runSingle("Where", inputs: [("c", condition), ("x", x), ("y", y)], opset: 16)
    #expect(out.elementType == .int32 && out.elements(as: Int32.self) == [1, -6, -5, 2])
    let picked = try runSingle("Where", inputs: [("c", condition), ("x", try bools([true], [1])), ("y", try bools([false, false], [2]))], opset: 16)
    #expect(picked.bools == [true, false, false, true])
    // The condition must be bool; X and Y one type; the three shapes must broadcast.
    expectInterpreterError("invalid-node") {
        _ = try runSingle("Where", inputs: [("c", try i64([1, 0])), ("x", try f32([1, 2], [2])), ("y", try f32([3, 4], [2]))], opset: 16)
    }
    expectInterpreterError("invalid-node") {
        _ = try runSingle("Where", inputs: [("c", condition), ("x", x), ("y", try i64([1, 2]))], opset: 16)
    }
    expectInterpreterError("invalid-node") {
        _ = try runSingle("Where", inputs: [("c", condition), ("x", try f32([1, 2], [2])), ("y", try f32([1, 2, 3], [3]))], opset: 16)
    }
    expectInterpreterError("invalid-node") {
        _ = try runSingle("Where", inputs: [("c", try bools([true, false, true], [3])), ("x", try f32([1, 2], [2])), ("y", try f32([1, 2], [2]))], opset: 16)
    }
}

@Test(arguments: [Precision.float32, .float64])
func isNaNAndIsInfClassify(precision: Precision) throws {
    let x: [Double] = [.nan, .infinity, -.infinity, 0, -0.0, 1e30, -3]
    let input = precision == .float32 ? try f32(x.map { Float($0) }, [7]) : try f64(x, [7])
    #expect(try runSingle("IsNaN", inputs: [("x", input)], precision: precision).bools == x.map(\.isNaN))
    let forms: [([Attribute], (Double) -> Bool)] = [
        ([], { $0.isInfinite }),
        ([attribute("detect_positive", Int64(0))], { $0 == -.infinity }),
        ([attribute("detect_negative", Int64(0))], { $0 == .infinity }),
        ([attribute("detect_positive", Int64(0)), attribute("detect_negative", Int64(0))], { _ in false }),
    ]
    for (attributes, expected) in forms {
        let out = try runSingle("IsInf", inputs: [("x", input)], attributes: attributes, opset: 20, precision: precision)
        #expect(out.elementType == .bool && out.bools == x.map(expected), "IsInf \(attributes.map(\.name))")
    }
    expectInterpreterError("invalid-node") { _ = try runSingle("IsNaN", inputs: [("x", try i64([1]))]) }
    expectInterpreterError("invalid-node") { _ = try runSingle("IsInf", inputs: [("x", try i64([1]))]) }
}

/// A detector-head sized Where and Greater run in one pass over contiguous runs (a regression
/// guard on the walk, checked against the formula, not a timing test).
@Test func largeBroadcastComparisonAndSelection() throws {
    let shape = [1, 8, 40, 40]
    var seeded = SeededRandom(seed: 5)
    let scores = seeded.values(12_800), threshold = [0.25]
    let greater = try runSingle("Greater", inputs: [("s", try f32(scores.map { Float($0) }, shape)), ("t", try f32([0.25], [1]))], opset: 13)
    #expect(greater.bools == scores.map { $0 > threshold[0] })
    let chosen = try runSingle("Where", inputs: [("c", greater), ("x", try f32(scores.map { Float($0) }, shape)), ("y", try f32([Float](repeating: 0, count: 8), [1, 8, 1, 1]))],
                               opset: 16)
    #expect(chosen.floats == scores.map { $0 > 0.25 ? Float($0) : 0 })
}
