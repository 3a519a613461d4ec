import GhostInterpreter
import GhostIR
import Testing
import TestSupport

/// ArgMax/ArgMin by a plain scan: the first (or, with `last`, the final) index of the extreme
/// value along `axis`; the running best changes only for a value strictly beyond it (or equal,
/// with `last`), so a NaN first wins and a later NaN is passed over, as in ONNX Runtime.
private func referenceArg(_ x: [Double], _ shape: [Int], axis: Int, maximum: Bool, last: Bool) -> [Int64] {
    let inner = shape[(axis + 1)...].reduce(1, *), count = shape[axis], outer = shape[..<axis].reduce(1, *)
    var out: [Int64] = []
    for o in 0..<outer {
        for j in 0..<inner {
            var best = x[o * count * inner + j], index = 0
            for i in 1..<count {
                let v = x[(o * count + i) * inner + j]
                if (maximum ? v > best : v < best) || (last && v == best) { best = v; index = i }
            }
            out.append(Int64(index))
        }
    }
    return out
}

@Test func argMaxAndArgMinMatchAScanWithTies() throws {
    let shape = [3, 4, 5]
    var random = SeededRandom(seed: 9)
    // Few distinct values, so most rows have ties.
    let x = random.values(60).map { ($0 * 2).rounded() }
    for op in ["ArgMax", "ArgMin"] {
        for axis in [0, 1, 2, -1] {
            for keep in [Int64(0), 1] {
                for last in [false, true] {
                    let normalized = (axis + 3) % 3
                    let expected = referenceArg(x, shape, axis: normalized, maximum: op == "ArgMax", last: last)
                    var outShape = shape
                    if keep == 1 { outShape[normalized] = 1 } else { outShape.remove(at: normalized) }
                    for precision in Precision.allCases {
                        let input = precision == .float64 ? try f64(x, shape) : try f32(x.map { Float($0) }, shape)
                        let out = try runSingle(op, inputs: [("x", input)], attributes: [
                            attribute("axis", Int64(axis)), attribute("keepdims", keep), attribute("select_last_index", last ? 1 : 0),
                        ], opset: 13, precision: precision)
                        #expect(out.elementType == .int64 && out.shape == outShape && out.int64s == expected,
                                "\(op) axis \(axis) keepdims \(keep) last \(last) \(precision)")
                    }
                    let integers = try runSingle(op, inputs: [("x", try i64(x.map { Int64($0) }, shape))], attributes: [
                        attribute("axis", Int64(axis)), attribute("keepdims", keep), attribute("select_last_index", last ? 1 : 0),
                    ], opset: 13)
                    #expect(integers.int64s == expected, "\(op) int64 axis \(axis)")
                }
            }
        }
    }
    // Defaults: axis 0, keepdims 1; before opset 12 there is no select_last_index.
    let tied = try runSingle("ArgMax", inputs: [("x", try f32([3, 1, 3, 1, 3], [5]))], opset: 11)
    #expect(tied.shape == [1] && tied.int64s == [0])
    let lastTie = try runSingle("ArgMin", inputs: [("x", try f32([3, 1, 3, 1, 3], [5]))], attributes: [attribute("select_last_index", 1)], opset: 12)
    #expect(lastTie.int64s == [3])
}

@Test func argMaxNaNFollowsONNXRuntime() throws {
    let nan = Float.nan
    // Checked against ONNX Runtime 1.32: rows [1, NaN, 3], [NaN, −1, 2], [4, 5, 6].
    let x = try f32([1, nan, 3, nan, -1, 2, 4, 5, 6], [3, 3])
    for precision in Precision.allCases {
        func arg(_ op: String, axis: Int64, last: Int64 = 0) throws -> [Int64] {
            try runSingle(op, inputs: [("x", x)], attributes: [attribute("axis", axis), attribute("keepdims", 0), attribute("select_last_index", last)],
                          opset: 13, precision: precision).int64s
        }
        #expect(try arg("ArgMax", axis: 1) == [2, 0, 2])
        #expect(try arg("ArgMax", axis: 1, last: 1) == [2, 0, 2])
        #expect(try arg("ArgMin", axis: 1) == [0, 0, 0])
        #expect(try arg("ArgMax", axis: 0) == [2, 0, 2])
        #expect(try arg("ArgMin", axis: 0) == [0, 0, 1])
    }
    expectInterpreterError("invalid-node") {
        _ = try runSingle("ArgMax", inputs: [("x", x)], attributes: [attribute("axis", 2)], opset: 13)
    }
    expectInterpreterError("invalid-node") {  // an empty axis has no extreme
        _ = try runSingle("ArgMin", inputs: [("x", try f32([], [0, 3]))], attributes: [attribute("axis", 0)], opset: 13)
    }
}

/// TopK by sorting: indices along the axis ordered by value (NaN above every number), ties by
/// index, the first k.
private func referenceTopK(_ x: [Double], _ shape: [Int], axis: Int, k: Int, largest: Bool) -> (values: [Double], indices: [Int64]) {
    let inner = shape[(axis + 1)...].reduce(1, *), count = shape[axis], outer = shape[..<axis].reduce(1, *)
    func above(_ a: Double, _ b: Double) -> Bool { (a.isNaN && !b.isNaN) || a > b }
    var values = [Double](repeating: 0, count: outer * k * inner), indices = [Int64](repeating: 0, count: outer * k * inner)
    for o in 0..<outer {
        for j in 0..<inner {
            let slice = (0..<count).map { x[(o * count + $0) * inner + j] }
            let order = (0..<count).sorted { a, b in
                if largest ? above(slice[a], slice[b]) : above(slice[b], slice[a]) { return true }
                if largest ? above(slice[b], slice[a]) : above(slice[a], slice[b]) { return false }
                return a < b
            }
            for r in 0..<k {
                values[(o * k + r) * inner + j] = slice[order[r]]
                indices[(o * k + r) * inner + j] = Int64(order[r])
            }
        }
    }
    return (values, indices)
}

@Test func topKOrdersByValueThenIndex() throws {
    let shape = [2, 6, 3]
    var random = SeededRandom(seed: 13)
    let x = random.values(36).map { ($0 * 3).rounded() }
    for axis in [0, 1, 2, -2] {
        let normalized = (axis + 3) % 3
        for k in [0, 1, shape[normalized]] {
            for largest in [true, false] {
                let expected = referenceTopK(x, shape, axis: normalized, k: k, largest: largest)
                var outShape = shape
                outShape[normalized] = k
                for precision in Precision.allCases {
                    let input = precision == .float64 ? try f64(x, shape) : try f32(x.map { Float($0) }, shape)
                    let outputs = try runNode("TopK", inputs: [("x", input)], constants: [("k", try i64([Int64(k)]))],
                                              attributes: [attribute("axis", Int64(axis)), attribute("largest", largest ? 1 : 0)],
                                              outputs: 2, opset: 11, precision: precision)
                    let values = precision == .float64 ? outputs[0].doubles : outputs[0].floats.map(Double.init)
                    #expect(outputs[0].shape == outShape && values == expected.values, "axis \(axis) k \(k) largest \(largest)")
                    #expect(outputs[1].elementType == .int64 && outputs[1].int64s == expected.indices, "axis \(axis) k \(k) largest \(largest)")
                }
                let integers = try runNode("TopK", inputs: [("x", try i64(x.map { Int64($0) }, shape))], constants: [("k", try i64([Int64(k)]))],
                                           attributes: [attribute("axis", Int64(axis)), attribute("largest", largest ? 1 : 0)], outputs: 2, opset: 11)
                #expect(integers[0].int64s == expected.values.map { Int64($0) } && integers[1].int64s == expected.indices)
            }
        }
    }
}

@Test func topKNaNFormsAndErrors() throws {
    let nan = Float.nan, inf = Float.infinity
    let x = try f32([1, nan, 3, 3, nan, -inf, inf], [1, 7])
    // ONNX Runtime 1.32: NaN ranks above +inf; equal values (NaNs too) by index.
    let largest = try runNode("TopK", inputs: [("x", x)], constants: [("k", try i64([7]))], outputs: 2, opset: 11)
    #expect(largest[1].int64s == [1, 4, 6, 2, 3, 0, 5])
    #expect(largest[0].floats[0].isNaN && largest[0].floats[1].isNaN && Array(largest[0].floats[2...]) == [inf, 3, 3, 1, -inf])
    let smallest = try runNode("TopK", inputs: [("x", x)], constants: [("k", try i64([7]))], attributes: [attribute("largest", 0)],
                               outputs: 2, opset: 11, precision: .float64)
    #expect(smallest[1].int64s == [5, 0, 2, 3, 6, 1, 4])
    // Opset 1: k is an attribute; 10: an input, always largest first.
    let v1 = try runNode("TopK", inputs: [("x", try f32([2, 9, 4, 9], [4]))], attributes: [attribute("k", 3)], outputs: 2, opset: 1)
    #expect(v1[0].floats == [9, 9, 4] && v1[1].int64s == [1, 3, 2])
    let v10 = try runNode("TopK", inputs: [("x", try f32([2, 9, 4, 9], [4]))], constants: [("k", try i64([2]))], outputs: 2, opset: 10)
    #expect(v10[0].floats == [9, 9] && v10[1].int64s == [1, 3])
    // uint64 above Int64.max orders as unsigned.
    let big = try Tensor(elementType: .uint64, shape: [3], storage: TensorStorage(values: [UInt64(5), UInt64.max, 7]))
    let top = try runNode("TopK", inputs: [("x", big)], constants: [("k", try i64([2]))], outputs: 2, opset: 11)
    #expect(top[0].elementType == .uint64 && top[0].elements(as: UInt64.self) == [UInt64.max, 7] && top[1].int64s == [1, 2])
    expectInterpreterError("invalid-node") {  // k larger than the axis
        _ = try runNode("TopK", inputs: [("x", x)], constants: [("k", try i64([8]))], outputs: 2, opset: 11)
    }
    expectInterpreterError("invalid-node") {  // negative k
        _ = try runNode("TopK", inputs: [("x", x)], constants: [("k", try i64([-1]))], outputs: 2, opset: 11)
    }
    expectInterpreterError("invalid-node") {  // k of two elements
        _ = try runNode("TopK", inputs: [("x", x)], constants: [("k", try i64([1, 2]))], outputs: 2, opset: 11)
    }
    expectInterpreterError("invalid-node") {  // opset 1 without the k attribute
        _ = try runNode("TopK", inputs: [("x", x)], outputs: 2, opset: 1)
    }
    expectInterpreterError("invalid-node") {
        _ = try runNode("TopK", inputs: [("x", x)], constants: [("k", try i64([1]))], attributes: [attribute("axis", 2)], outputs: 2, opset: 11)
    }
}
