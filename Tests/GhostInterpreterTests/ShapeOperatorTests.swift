import GhostInterpreter
import GhostIR
import Testing

private let counting = (0..<24).map(Float.init)

@Test func reshapeCopiesZerosAndInfersMinusOne() throws {
    let x = try f32(counting, [2, 3, 4])
    let zeroAndMinusOne = try runSingle("Reshape", inputs: [("x", x)], constants: [("s", try i64([0, -1]))])
    #expect(zeroAndMinusOne.shape == [2, 12])
    #expect(zeroAndMinusOne.floats == counting)
    let middle = try runSingle("Reshape", inputs: [("x", x)], constants: [("s", try i64([4, 0, -1]))])
    #expect(middle.shape == [4, 3, 2])
    // allowzero: a 0 is a real zero-sized dimension (of an empty tensor).
    let empty = try runSingle("Reshape", inputs: [("x", try f32([], [0, 3]))], constants: [("s", try i64([3, 0]))],
                              attributes: [attribute("allowzero", 1)], opset: 14)
    #expect(empty.shape == [3, 0])
    for bad: [Int64] in [[5, -1], [-1, -1], [0, 0, 0, 0, 0], [7], [2, -3]] {
        expectInterpreterError("invalid-node") { _ = try runSingle("Reshape", inputs: [("x", x)], constants: [("s", try i64(bad))]) }
    }
    expectInterpreterError("tensor-too-large") {
        _ = try runSingle("Reshape", inputs: [("x", x)], constants: [("s", try i64([1 << 40, 1 << 40, 0]))])
    }
}

@Test func flattenAtEveryAxis() throws {
    let x = try f32(counting, [2, 3, 4])
    for (axis, shape) in [(0, [1, 24]), (1, [2, 12]), (2, [6, 4]), (3, [24, 1]), (-1, [6, 4])] {
        let out = try runSingle("Flatten", inputs: [("x", x)], attributes: [attribute("axis", Int64(axis))])
        #expect(out.shape == shape, "axis \(axis)")
        #expect(out.floats == counting)
    }
}

@Test func transposeMatchesIndexArithmetic() throws {
    let x = try f32(counting, [2, 3, 4])
    let out = try runSingle("Transpose", inputs: [("x", x)], attributes: [attribute("perm", [2, 0, 1])])
    #expect(out.shape == [4, 2, 3])
    // out[k][i][j] = x[i][j][k] = 12i + 4j + k
    var expected: [Float] = []
    for k in 0..<4 { for i in 0..<2 { for j in 0..<3 { expected.append(Float(12 * i + 4 * j + k)) } } }
    #expect(out.floats == expected)
    let reversed = try runSingle("Transpose", inputs: [("x", try f32([1, 2, 3, 4, 5, 6], [2, 3]))])
    #expect(reversed.floats == [1, 4, 2, 5, 3, 6])
    expectInterpreterError("invalid-node") {
        _ = try runSingle("Transpose", inputs: [("x", x)], attributes: [attribute("perm", [0, 0, 1])])
    }
}

@Test(arguments: [Int64(11), 13])
func squeezeAndUnsqueezeAxesAsAttributeOrInput(opset: Int64) throws {
    let x = try f32([1, 2, 3], [1, 3, 1])
    func axes(_ values: [Int64]) throws -> (attributes: [Attribute], constants: [(String, Tensor)]) {
        opset < 13 ? ([attribute("axes", values)], []) : ([], [("axes", try i64(values))])
    }
    let squeezeLast = try axes([-1])
    let squeezed = try runSingle("Squeeze", inputs: [("x", x)], constants: squeezeLast.constants, attributes: squeezeLast.attributes, opset: opset)
    #expect(squeezed.shape == [1, 3])
    #expect(try runSingle("Squeeze", inputs: [("x", x)], opset: opset).shape == [3])
    let insert = try axes([0, 3, -1])
    let unsqueezed = try runSingle("Unsqueeze", inputs: [("x", x)], constants: insert.constants, attributes: insert.attributes, opset: opset)
    #expect(unsqueezed.shape == [1, 1, 3, 1, 1, 1])
    #expect(unsqueezed.floats == [1, 2, 3])
    let squeezeSized = try axes([1])
    expectInterpreterError("invalid-node") {
        _ = try runSingle("Squeeze", inputs: [("x", x)], constants: squeezeSized.constants, attributes: squeezeSized.attributes, opset: opset)
    }
    let twice = try axes([0, 0])
    expectInterpreterError("invalid-node") {
        _ = try runSingle("Unsqueeze", inputs: [("x", x)], constants: twice.constants, attributes: twice.attributes, opset: opset)
    }
}

@Test func shapeWithStartAndEnd() throws {
    let x = try f32([Float](repeating: 0, count: 120), [2, 3, 4, 5])
    #expect(try runSingle("Shape", inputs: [("x", x)]).int64s == [2, 3, 4, 5])
    #expect(try runSingle("Shape", inputs: [("x", x)], attributes: [attribute("start", 1), attribute("end", -1)], opset: 15).int64s == [3, 4])
    #expect(try runSingle("Shape", inputs: [("x", x)], attributes: [attribute("start", -10), attribute("end", 99)], opset: 15).int64s == [2, 3, 4, 5])
    #expect(try runSingle("Shape", inputs: [("x", x)], attributes: [attribute("start", 3), attribute("end", 1)], opset: 15).int64s == [])
}

@Test func gatherAlongAnAxisWithMatrixIndices() throws {
    let x = try f32([1, 2, 3, 4, 5, 6], [3, 2])
    #expect(try runSingle("Gather", inputs: [("x", x)], constants: [("i", try i64([-1, 0]))]).floats == [5, 6, 1, 2])
    // axis 1 with 2×2 indices: out[r][a][b] = x[r][idx[a][b]].
    let out = try runSingle("Gather", inputs: [("x", x)], constants: [("i", try i64([1, 0, 1, 1], [2, 2]))], attributes: [attribute("axis", 1)])
    #expect(out.shape == [3, 2, 2])
    #expect(out.floats == [2, 1, 2, 2, 4, 3, 4, 4, 6, 5, 6, 6])
    // A scalar index drops the axis.
    let row = try runSingle("Gather", inputs: [("x", x)], constants: [("i", try i64([1], []))])
    #expect(row.shape == [2])
    #expect(row.floats == [3, 4])
    expectInterpreterError("invalid-node") { _ = try runSingle("Gather", inputs: [("x", x)], constants: [("i", try i64([3]))]) }
}

@Test func concatAlongInnerAndOuterAxes() throws {
    let a = try f32([1, 2, 3, 4], [2, 2]), b = try f32([5, 6], [2, 1])
    let inner = try runSingle("Concat", inputs: [("a", a), ("b", b)], attributes: [attribute("axis", -1)])
    #expect(inner.shape == [2, 3])
    #expect(inner.floats == [1, 2, 5, 3, 4, 6])
    let outer = try runSingle("Concat", inputs: [("a", try f32([1, 2], [1, 2])), ("b", try f32([3, 4, 5, 6], [2, 2]))], attributes: [attribute("axis", 0)])
    #expect(outer.floats == [1, 2, 3, 4, 5, 6])
    expectInterpreterError("invalid-node") {
        _ = try runSingle("Concat", inputs: [("a", a), ("b", b)], attributes: [attribute("axis", 0)])
    }
    expectInterpreterError("invalid-node") {  // scalars have no axis to join on
        _ = try runSingle("Concat", constants: [("a", try i64([1], [])), ("b", try i64([2], []))], attributes: [attribute("axis", 0)])
    }
}

@Test func splitBySizesInputOrCount() throws {
    let x = try f32((0..<7).map(Float.init), [1, 7])
    let byAttribute = try runNode("Split", inputs: [("x", x)], attributes: [attribute("axis", 1), attribute("split", [2, 5])], outputs: 2, opset: 11)
    #expect(byAttribute.map(\.floats) == [[0, 1], [2, 3, 4, 5, 6]])
    let byInput = try runNode("Split", inputs: [("x", x)], constants: [("s", try i64([3, 0, 4]))], attributes: [attribute("axis", -1)],
                              outputs: 3, opset: 13)
    #expect(byInput.map(\.shape) == [[1, 3], [1, 0], [1, 4]])
    // Equal parts from the output count, the last one smaller (opset 18 num_outputs).
    let counted = try runNode("Split", inputs: [("x", x)], attributes: [attribute("axis", 1), attribute("num_outputs", 3)], outputs: 3, opset: 18)
    #expect(counted.map(\.floats) == [[0, 1, 2], [3, 4, 5], [6]])
    let even = try runNode("Split", inputs: [("x", try f32((0..<6).map(Float.init), [6]))], outputs: 2, opset: 13)
    #expect(even.map(\.floats) == [[0, 1, 2], [3, 4, 5]])
    expectInterpreterError("invalid-node") {
        _ = try runNode("Split", inputs: [("x", x)], constants: [("s", try i64([3, 3]))], attributes: [attribute("axis", 1)], outputs: 2, opset: 13)
    }
}

/// numpy-style slicing of one axis, written the slow way: walk from the clamped start by the step.
private func sliceIndices(size: Int, start: Int, end: Int, step: Int) -> [Int] {
    var s = start < 0 ? start + size : start, e = end < 0 ? end + size : end
    if step > 0 { s = min(max(s, 0), size); e = min(max(e, 0), size) } else { s = min(max(s, -1), size - 1); e = min(max(e, -1), size - 1) }
    var result: [Int] = []
    var i = s
    while step > 0 ? i < e : i > e { result.append(i); i += step }
    return result
}

private let sliceCases: [[Int64]] = [
    [1, 4, 1], [-1, -6, -2], [-3, .max, 1], [.max, .min, -1], [0, -1, 3], [10, 0, -3], [2, 2, 1], [-100, 100, 2], [4, -100, -1],
]

@Test(arguments: sliceCases)
func sliceOneAxisLikeNumPy(_ bounds: [Int64]) throws {
    let (start, end, step) = (bounds[0], bounds[1], bounds[2])
    let x = try f32((0..<12).map(Float.init), [2, 6])
    let out = try runSingle("Slice", inputs: [("x", x)],
                            constants: [("s", try i64([start])), ("e", try i64([end])), ("a", try i64([-1])), ("t", try i64([step]))])
    let columns = sliceIndices(size: 6, start: Int(clamping: start), end: Int(clamping: end), step: Int(step))
    #expect(out.shape == [2, columns.count])
    #expect(out.floats == (0..<2).flatMap { row in columns.map { Float(row * 6 + $0) } })
}

@Test func sliceSeveralAxesAndTheAttributeForm() throws {
    let x = try f32(counting, [2, 3, 4])
    // x[1:2, ::-2, 1:3] with axes given out of order.
    let out = try runSingle("Slice", inputs: [("x", x)],
                            constants: [("s", try i64([1, -1, 1])), ("e", try i64([3, Int64.min, 2])), ("a", try i64([2, 1, 0])), ("t", try i64([1, -2, 1]))])
    #expect(out.shape == [1, 2, 2])
    #expect(out.floats == [21, 22, 13, 14])
    let legacy = try runSingle("Slice", inputs: [("x", x)], attributes: [attribute("starts", [0, 2]), attribute("ends", [1, 4]), attribute("axes", [0, 2])], opset: 9)
    #expect(legacy.shape == [1, 3, 2])
    #expect(legacy.floats == [2, 3, 6, 7, 10, 11])
    expectInterpreterError("invalid-node") {
        _ = try runSingle("Slice", inputs: [("x", x)], constants: [("s", try i64([0])), ("e", try i64([1])), ("a", try i64([0])), ("t", try i64([0]))])
    }
}
