import Foundation
import GhostInterpreter
import GhostIR
import Testing
import TestSupport

/// A Reduce* operator and its definition over a list of elements, in Double.
struct ReductionOp: CustomTestStringConvertible, Sendable {
    var op: String
    /// From this opset the axes are an input (ReduceSum 13, the others 18).
    var axesInputFrom: Int64 = 18
    /// Maps the seeded values in [-1, 1) to this op's inputs: positive for logarithms, near 1 for
    /// products (so 120 factors stay normal in float32).
    var scale = 1.0, offset = 0.0
    var float32Tolerance = 1e-5
    var testDescription: String { op }

    func reference(_ values: [Double]) -> Double {
        switch op {
        case "ReduceSum": values.reduce(0, +)
        case "ReduceMean": values.isEmpty ? 0 : values.reduce(0, +) / Double(values.count)
        case "ReduceProd": values.reduce(1, *)
        case "ReduceMax": values.reduce(-.infinity) { Swift.max($0, $1) }
        case "ReduceMin": values.reduce(.infinity) { Swift.min($0, $1) }
        case "ReduceL1": values.reduce(0) { $0 + abs($1) }
        case "ReduceL2": values.reduce(0) { $0 + $1 * $1 }.squareRoot()
        case "ReduceSumSquare": values.reduce(0) { $0 + $1 * $1 }
        case "ReduceLogSum": log(values.reduce(0, +))
        default: log(values.reduce(0) { $0 + exp($1) })  // ReduceLogSumExp
        }
    }
}

private let reductionOps: [ReductionOp] = [
    ReductionOp(op: "ReduceSum", axesInputFrom: 13), ReductionOp(op: "ReduceMean"), ReductionOp(op: "ReduceProd", scale: 0.5, offset: 1),
    ReductionOp(op: "ReduceMax", float32Tolerance: 0), ReductionOp(op: "ReduceMin", float32Tolerance: 0),
    ReductionOp(op: "ReduceL1"), ReductionOp(op: "ReduceL2"), ReductionOp(op: "ReduceSumSquare"),
    ReductionOp(op: "ReduceLogSum", offset: 1.5), ReductionOp(op: "ReduceLogSumExp"),
]

/// The reduction of `x` (C order, `shape`) over `axes` by brute force: every element is added to
/// the list of the output it belongs to. Returns the values and the output shape.
private func referenceReduce(_ x: [Double], _ shape: [Int], axes: Set<Int>, keep: Bool,
                             _ reduce: ([Double]) -> Double) -> ([Double], [Int]) {
    let kept = shape.enumerated().map { axes.contains($0.offset) ? 1 : $0.element }
    var lists = [[Double]](repeating: [], count: kept.reduce(1, *))
    for flat in x.indices {
        var remainder = flat, target = 0, step = 1
        for axis in shape.indices.reversed() {
            let index = remainder % shape[axis]
            remainder /= shape[axis]
            if !axes.contains(axis) { target += index * step }
            step *= kept[axis]
        }
        lists[target].append(x[flat])
    }
    let outShape = keep ? kept : shape.enumerated().filter { !axes.contains($0.offset) }.map(\.element)
    return (lists.map(reduce), outShape)
}

/// Runs a Reduce* node with `axes` as the attribute (opset below the input form) or the input.
private func runReduction(_ op: ReductionOp, _ x: Tensor, axes: [Int64]?, keep: Int64, attributeForm: Bool,
                          noop: Bool = false, precision: Precision = .float32) throws -> Tensor {
    var attributes = [attribute("keepdims", keep)]
    if noop { attributes.append(attribute("noop_with_empty_axes", 1)) }
    if attributeForm {
        if let axes { attributes.append(attribute("axes", axes)) }
        return try runSingle(op.op, inputs: [("x", x)], attributes: attributes, opset: op.axesInputFrom - 1, precision: precision)
    }
    guard let axes else { return try runSingle(op.op, inputs: [("x", x)], attributes: attributes, opset: 18, precision: precision) }
    return try runSingle(op.op, inputs: [("x", x)], constants: [("axes", try i64(axes))], attributes: attributes,
                         opset: 18, precision: precision)
}

@Test(arguments: reductionOps)
func reductionsOverEverySubsetOfAxesMatchTheirDefinition(_ op: ReductionOp) throws {
    let shape = [2, 3, 4, 5]
    var random = SeededRandom(seed: 7)
    let x = random.values(shape.reduce(1, *)).map { $0 * op.scale + op.offset }
    for mask in 0..<16 {
        let axes = (0..<4).filter { mask & (1 << $0) != 0 }
        // No axes: all of them (noop_with_empty_axes is 0).
        let reduced = Set(axes.isEmpty ? [0, 1, 2, 3] : axes)
        for keep in [Int64(0), 1] {
            let (expected, outShape) = referenceReduce(x, shape, axes: reduced, keep: keep == 1, op.reference)
            for precision in Precision.allCases {
                // Negative axes in the attribute form, positive in the input form.
                let attributeForm = mask % 2 == 0
                let given = axes.isEmpty ? nil : axes.map { Int64(attributeForm ? $0 - 4 : $0) }
                let input = precision == .float64 ? try f64(x, shape) : try f32(x.map { Float($0) }, shape)
                let out = try runReduction(op, input, axes: given, keep: keep, attributeForm: attributeForm, precision: precision)
                #expect(out.shape == outShape, "\(op.op) axes \(axes) keepdims \(keep)")
                let actual = precision == .float64 ? out.doubles : out.floats.map(Double.init)
                let tolerance = precision == .float64 ? 1e-12 : op.float32Tolerance
                let difference = relativeDifference(actual, expected)
                #expect(difference <= tolerance, "\(op.op) axes \(axes) keepdims \(keep) \(precision): \(difference)")
            }
        }
    }
}

@Test func integerReductionsKeepTheirTypeAndMatchONNXRuntime() throws {
    let x = try Tensor(elementType: .int32, shape: [2, 3], storage: TensorStorage(values: [Int32(1), 5, 3, 7, -1, 2]))
    // ONNX Runtime 1.32 on this input over axis 1: integer mean divides toward zero, roots and
    // logarithms are truncated.
    let expected: [(String, [Int32])] = [
        ("ReduceMax", [5, 7]), ("ReduceMin", [1, -1]), ("ReduceSum", [9, 8]), ("ReduceProd", [15, -14]),
        ("ReduceMean", [3, 2]), ("ReduceL1", [9, 10]), ("ReduceL2", [5, 7]), ("ReduceSumSquare", [35, 54]),
        ("ReduceLogSum", [2, 2]),
    ]
    for (op, values) in expected {
        let out = try runSingle(op, inputs: [("x", x)], constants: [("axes", try i64([1]))], attributes: [attribute("keepdims", 0)], opset: 18)
        #expect(out.elementType == .int32, "\(op)")
        #expect(out.elements(as: Int32.self) == values, "\(op)")
    }
    // int64 against the reference over every subset of axes of a rank-4 tensor.
    let shape = [2, 3, 2, 3]
    var random = SeededRandom(seed: 3)
    let values = random.values(36).map { Int64(($0 * 2).rounded()) }
    for op in ["ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceSumSquare", "ReduceL1"] {
        let definition = ReductionOp(op: op, axesInputFrom: op == "ReduceSum" ? 13 : 18)
        for mask in 1..<16 {
            let axes = (0..<4).filter { mask & (1 << $0) != 0 }
            let (expected, outShape) = referenceReduce(values.map(Double.init), shape, axes: Set(axes), keep: false, definition.reference)
            let out = try runReduction(definition, try i64(values, shape), axes: axes.map(Int64.init), keep: 0, attributeForm: false)
            #expect(out.shape == outShape && out.int64s == expected.map { Int64($0) }, "\(op) \(axes)")
        }
    }
    // Over no elements: the type's lowest and highest for max and min (int32 here).
    let empty = try Tensor(elementType: .int32, shape: [2, 0], storage: TensorStorage(values: [Int32]()))
    let max = try runSingle("ReduceMax", inputs: [("x", empty)], constants: [("axes", try i64([1]))], opset: 18)
    #expect(max.shape == [2, 1] && max.elements(as: Int32.self) == [Int32.min, Int32.min])
    let min = try runSingle("ReduceMin", inputs: [("x", empty)], constants: [("axes", try i64([1]))], opset: 18)
    #expect(min.elements(as: Int32.self) == [Int32.max, Int32.max])
    // uint64 beyond Int64.max orders as unsigned.
    let big = try Tensor(elementType: .uint64, shape: [3], storage: TensorStorage(values: [UInt64(5), UInt64.max - 1, 7]))
    let top = try runSingle("ReduceMax", inputs: [("x", big)], attributes: [attribute("keepdims", 0)], opset: 18)
    #expect(top.elementType == .uint64 && top.elements(as: UInt64.self) == [UInt64.max - 1])
    let bottom = try runSingle("ReduceMin", inputs: [("x", big)], attributes: [attribute("keepdims", 0)], opset: 18)
    #expect(bottom.elements(as: UInt64.self) == [5])
}

@Test func emptyAxesAndEmptySets() throws {
    let x: [Double] = [-2, 3, -0.5, 4]
    // noop_with_empty_axes without axes reduces each element alone: the element maps still apply
    // (ONNX Runtime: ReduceL2 gives |x|, ReduceSumSquare x², ReduceLogSum log x).
    let noop: [(String, [Double])] = [
        ("ReduceSum", x), ("ReduceMean", x), ("ReduceMax", x), ("ReduceProd", x), ("ReduceLogSumExp", x),
        ("ReduceL1", x.map(abs)), ("ReduceL2", x.map(abs)), ("ReduceSumSquare", x.map { $0 * $0 }),
    ]
    for (op, expected) in noop {
        for precision in Precision.allCases {
            let out = try runSingle(op, inputs: [("x", try f32(x.map { Float($0) }, [2, 2]))],
                                    attributes: [attribute("noop_with_empty_axes", 1), attribute("keepdims", 0)], opset: 18, precision: precision)
            #expect(out.shape == [2, 2], "\(op)")
            #expect((precision == .float64 ? out.doubles : out.floats.map(Double.init)) == expected, "\(op) \(precision)")
        }
    }
    let logs = try runSingle("ReduceLogSum", inputs: [("x", try f32([-2, 3], [2]))], attributes: [attribute("noop_with_empty_axes", 1)], opset: 18)
    #expect(logs.floats[0].isNaN && logs.floats[1] == Float(log(3.0)))
    // An empty axes input without noop reduces everything; with noop it is the identity.
    let all = try runSingle("ReduceSum", inputs: [("x", try f32([1, 2, 3, 4], [2, 2]))], constants: [("axes", try i64([]))],
                            attributes: [attribute("keepdims", 0)], opset: 13)
    #expect(all.shape == [] && all.floats == [10])
    let same = try runSingle("ReduceSum", inputs: [("x", try f32([1, 2, 3, 4], [2, 2]))], constants: [("axes", try i64([]))],
                             attributes: [attribute("noop_with_empty_axes", 1)], opset: 13)
    #expect(same.shape == [2, 2] && same.floats == [1, 2, 3, 4])
    // Over no elements: the identities ONNX Runtime gives.
    let identities: [(String, Float)] = [
        ("ReduceSum", 0), ("ReduceMean", 0), ("ReduceProd", 1), ("ReduceMax", -.infinity), ("ReduceMin", .infinity),
        ("ReduceL1", 0), ("ReduceL2", 0), ("ReduceSumSquare", 0), ("ReduceLogSum", -.infinity), ("ReduceLogSumExp", -.infinity),
    ]
    for (op, identity) in identities {
        for precision in Precision.allCases {
            let out = try runSingle(op, inputs: [("x", try f32([], [2, 0, 3]))], constants: [("axes", try i64([1]))], opset: 18, precision: precision)
            #expect(out.shape == [2, 1, 3], "\(op)")
            let values = precision == .float64 ? out.doubles : out.floats.map(Double.init)
            #expect(values == [Double](repeating: Double(identity), count: 6), "\(op) \(precision)")
        }
    }
    // A zero-size kept axis gives an empty output.
    let none = try runSingle("ReduceSum", inputs: [("x", try f32([], [0, 3]))], constants: [("axes", try i64([1]))], opset: 18)
    #expect(none.shape == [0, 1] && none.floats.isEmpty)
}

@Test func reductionNaNAndInfinityFollowONNXRuntime() throws {
    let nan = Float.nan, inf = Float.infinity
    for precision in Precision.allCases {
        func reduce(_ op: String, _ x: [Float], _ shape: [Int], axes: [Int64]) throws -> [Float] {
            let out = try runSingle(op, inputs: [("x", try f32(x, shape))], constants: [("axes", try i64(axes))],
                                    attributes: [attribute("keepdims", 0)], opset: 18, precision: precision)
            return precision == .float64 ? out.doubles.map { Float($0) } : out.floats
        }
        func same(_ a: [Float], _ b: [Float]) -> Bool { a.count == b.count && zip(a, b).allSatisfy { $0 == $1 || ($0.isNaN && $1.isNaN) } }
        // ONNX Runtime 1.32: a NaN first in a reduction gives NaN, a later NaN is passed over.
        let rows: [Float] = [1, nan, 3, nan, -1, 2, 4, 5, 6]
        #expect(same(try reduce("ReduceMax", rows, [3, 3], axes: [1]), [3, nan, 6]))
        #expect(same(try reduce("ReduceMin", rows, [3, 3], axes: [1]), [1, nan, 4]))
        #expect(same(try reduce("ReduceMax", rows, [3, 3], axes: [0]), [4, nan, 6]))
        #expect(same(try reduce("ReduceMax", [nan, 1, 2, 3, nan, 5], [2, 3], axes: [0]), [nan, 1, 5]))
        // Sums and products propagate any NaN.
        #expect(same(try reduce("ReduceSum", rows, [3, 3], axes: [1]), [nan, nan, 15]))
        #expect(same(try reduce("ReduceProd", rows, [3, 3], axes: [1]), [nan, nan, 120]))
        // Log-sum-exp shifts by the maximum only when it is finite.
        let lse = try reduce("ReduceLogSumExp", [inf, 1, -inf, -inf, inf, -inf, inf, nan, -inf, 3, 1e30, 1e30], [6, 2], axes: [1])
        #expect(same(lse, [inf, -inf, inf, nan, 3, 1e30]))
        // Trailing H·W of a feature map (the contiguous fast path): NaN first in a plane only.
        var plane = (0..<(3 * 64)).map { Float($0 % 64) }
        plane[64] = nan  // first element of plane 1
        plane[2 * 64 + 10] = nan  // inside plane 2
        #expect(same(try reduce("ReduceMax", plane, [1, 3, 8, 8], axes: [2, 3]), [63, nan, 63]))
        #expect(same(try reduce("ReduceMin", plane, [1, 3, 8, 8], axes: [-1, -2]), [0, nan, 0]))
    }
}

@Test func boolMaxAndMinFromOpset20() throws {
    let x = try Tensor(elementType: .bool, shape: [2, 2], storage: TensorStorage(values: [UInt8(1), 0, 0, 0]))
    let any = try runSingle("ReduceMax", inputs: [("x", x)], constants: [("axes", try i64([1]))], attributes: [attribute("keepdims", 0)], opset: 20)
    #expect(any.elementType == .bool && any.elements(as: UInt8.self) == [1, 0])
    let all = try runSingle("ReduceMin", inputs: [("x", x)], constants: [("axes", try i64([0]))], attributes: [attribute("keepdims", 0)], opset: 20)
    #expect(all.elements(as: UInt8.self) == [0, 0])
    expectInterpreterError("invalid-node") { _ = try runSingle("ReduceMax", inputs: [("x", x)], opset: 18) }
    expectInterpreterError("invalid-node") { _ = try runSingle("ReduceSum", inputs: [("x", x)], opset: 20) }
}

@Test func reductionErrorsAreTyped() throws {
    let x = try f32([1, 2, 3, 4, 5, 6], [2, 3])
    expectInterpreterError("invalid-node") {
        _ = try runSingle("ReduceMax", inputs: [("x", x)], constants: [("axes", try i64([2]))], opset: 18)
    }
    expectInterpreterError("invalid-node") {
        _ = try runSingle("ReduceSum", inputs: [("x", x)], attributes: [attribute("axes", [-3])], opset: 11)
    }
    expectInterpreterError("invalid-node") {  // axes must be integers
        _ = try runSingle("ReduceL2", inputs: [("x", x)], constants: [("axes", try f32([1], [1]))], opset: 18)
    }
    expectInterpreterError("invalid-node") {  // axes as INTS, not INT
        _ = try runSingle("ReduceProd", inputs: [("x", x)], attributes: [attribute("axes", Int64(1))], opset: 13)
    }
}

@Test func reductionFastPathsOnAFeatureMap() throws {
    // [1, C, 80, 80]: trailing H·W (global pooling), the channel axis (rows) and leading axes.
    let shape = [1, 16, 80, 80]
    var random = SeededRandom(seed: 11)
    let x = random.values(shape.reduce(1, *))
    for (op, axes) in [("ReduceMean", [2, 3]), ("ReduceSum", [2, 3]), ("ReduceMax", [2, 3]), ("ReduceMax", [1]), ("ReduceSum", [0, 1])] {
        let definition = reductionOps.first { $0.op == op }!
        let (expected, outShape) = referenceReduce(x, shape, axes: Set(axes), keep: true, definition.reference)
        let out = try runReduction(definition, try f64(x, shape), axes: axes.map(Int64.init), keep: 1, attributeForm: false, precision: .float64)
        #expect(out.shape == outShape)
        #expect(relativeDifference(out.doubles, expected) <= 1e-12, "\(op) \(axes)")
    }
}

/// CumSum by its definition: y[i] = Σ x[j] over j ≤ i (j < i exclusive; reversed: j ≥ i, j > i).
private func referenceCumSum(_ x: [Double], _ shape: [Int], axis: Int, exclusive: Bool, reverse: Bool) -> [Double] {
    let inner = shape[(axis + 1)...].reduce(1, *), count = shape[axis]
    return x.indices.map { flat in
        let position = (flat / inner) % count, start = flat - position * inner
        return (0..<count).filter { j in
            reverse ? (exclusive ? j > position : j >= position) : (exclusive ? j < position : j <= position)
        }.reduce(0) { $0 + x[start + $1 * inner] }
    }
}

@Test func cumSumEveryFlagCombinationAndAxis() throws {
    let shape = [2, 3, 4]
    var random = SeededRandom(seed: 5)
    let x = random.values(24)
    for axis in [0, 1, 2, -1] {
        for exclusive in [false, true] {
            for reverse in [false, true] {
                let expected = referenceCumSum(x, shape, axis: (axis + 3) % 3, exclusive: exclusive, reverse: reverse)
                try expectBothPrecisions("CumSum", inputs: [("x", x, shape)], constants: [],
                                         attributes: [attribute("exclusive", exclusive ? 1 : 0), attribute("reverse", reverse ? 1 : 0)],
                                         opset: 14, expected: expected, shape: shape, axisInput: Int64(axis))
                // Integers, with the axis as a 1-element int32 tensor.
                let integers = x.map { ($0 * 8).rounded() }
                let axisTensor = try Tensor(elementType: .int32, shape: [1], storage: TensorStorage(values: [Int32(axis)]))
                let out = try runSingle("CumSum", inputs: [("x", try i64(integers.map { Int64($0) }, shape))], constants: [("axis", axisTensor)],
                                        attributes: [attribute("exclusive", exclusive ? 1 : 0), attribute("reverse", reverse ? 1 : 0)], opset: 14)
                let want = referenceCumSum(integers, shape, axis: (axis + 3) % 3, exclusive: exclusive, reverse: reverse)
                #expect(out.int64s == want.map { Int64($0) }, "axis \(axis) exclusive \(exclusive) reverse \(reverse)")
            }
        }
    }
    // NaN and infinities carry forward along the scan.
    let special = try runSingle("CumSum", inputs: [("x", try f32([1, .nan, 3, .infinity, -.infinity, 2], [2, 3]))],
                                constants: [("axis", try i64([1]))], opset: 14)
    #expect(special.floats[0] == 1 && special.floats[1].isNaN && special.floats[2].isNaN)
    #expect(special.floats[3] == .infinity && special.floats[4].isNaN && special.floats[5].isNaN)
    expectInterpreterError("invalid-node") {
        _ = try runSingle("CumSum", inputs: [("x", try f32([1, 2], [2]))], constants: [("axis", try i64([1]))], opset: 14)
    }
    expectInterpreterError("invalid-node") {  // the axis must be one integer
        _ = try runSingle("CumSum", inputs: [("x", try f32([1, 2], [2]))], constants: [("axis", try i64([0, 0]))], opset: 14)
    }
}

/// expectBothPrecisions with an int64 axis input after the float inputs.
private func expectBothPrecisions(
    _ op: String, inputs: [(String, [Double], [Int])], constants: [(String, [Double], [Int])], attributes: [Attribute],
    opset: Int64, expected: [Double], shape: [Int], axisInput: Int64, sourceLocation: SourceLocation = #_sourceLocation
) throws {
    for precision in Precision.allCases {
        let feeds = try inputs.map { ($0.0, try f32($0.1.map { Float($0) }, $0.2)) }
        let out = try runSingle(op, inputs: feeds, constants: [("axis", try i64([axisInput], []))], attributes: attributes,
                                opset: opset, precision: precision)
        #expect(out.shape == shape, sourceLocation: sourceLocation)
        let actual = precision == .float64 ? out.doubles : out.floats.map(Double.init)
        #expect(relativeDifference(actual, expected) <= (precision == .float64 ? 1e-12 : 1e-6), sourceLocation: sourceLocation)
    }
}

/// Reducing over an empty axis fills the output with the identity, and that output can be far
/// larger than the input: it is bounded like any shape from data (found by the attribute fuzzer:
/// ReduceSum of [1, 2²⁰, 0, 4] over axis 2 made 4M elements past the fuzzer's lowered limit).
@Test func reductionOverAnEmptyAxisIsBounded() throws {
    let huge = 1 << 30
    let empty = try Tensor(float32: [], shape: [huge, 0, 8])
    for op in ["ReduceSum", "ReduceMax", "ReduceProd"] {
        expectInterpreterError("tensor-too-large") {
            _ = try runSingle(op, inputs: [("x", empty)], constants: [("axes", try i64([1]))], opset: 18)
        }
    }
    // A small one still gives the identity.
    let small = try runSingle("ReduceSum", inputs: [("x", try f32([], [3, 0, 2]))], constants: [("axes", try i64([1]))], opset: 13)
    #expect(small.shape == [3, 1, 2] && small.elements(as: Float.self) == [0, 0, 0, 0, 0, 0])
}
