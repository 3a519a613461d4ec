import GhostIR
@testable import GhostPasses
import Testing

/// The shape-fold constant evaluator, op by op: values worked out by hand from the ONNX spec.

private func i64(_ values: [Int64], _ shape: [Int]? = nil) -> Tensor {
    try! Tensor(int64: values, shape: shape ?? [values.count])
}

private func evaluate(_ op: String, _ inputs: [Tensor?], _ attributes: [Attribute] = []) throws(FoldFailure) -> Tensor {
    let names = inputs.enumerated().map { $0.element == nil ? "" : "i\($0.offset)" }
    let node = Node(name: op, opType: op, inputs: names, outputs: ["y"], attributes: attributes)
    return try ConstantEvaluator.evaluate(node, inputs)
}

private func code(_ body: () throws(FoldFailure) -> Tensor) -> SkipCode? {
    do {
        _ = try body()
        return nil
    } catch {
        return error.code
    }
}

@Test func gatherTakesNegativeIndicesAndRefusesOutOfRange() throws {
    let shape = i64([1, 116, 12, 12])
    #expect(try evaluate("Gather", [shape, i64([-3], [])]).int64Values() == [116])
    let picked = try evaluate("Gather", [shape, i64([0, 3])])
    #expect(picked.shape == [2] && picked.int64Values() == [1, 12])
    let matrix = i64([1, 2, 3, 4, 5, 6], [2, 3])
    let columns = try evaluate("Gather", [matrix, i64([2, 0])], [Attribute(name: "axis", value: .int(1))])
    #expect(columns.shape == [2, 2] && columns.int64Values() == [3, 1, 6, 4])
    #expect(code { () throws(FoldFailure) in try evaluate("Gather", [shape, i64([4], [])]) } == .foldMalformed)
}

@Test func sliceInputAndAttributeFormsClampLikeONNX() throws {
    let data = i64([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    // Opset 10+: INT64_MAX end, negative start.
    #expect(try evaluate("Slice", [data, i64([-3]), i64([Int64.max])]).int64Values() == [7, 8, 9])
    // Negative step from INT64_MAX down to the front (end INT64_MIN clamps to −1).
    #expect(try evaluate("Slice", [data, i64([Int64.max]), i64([Int64.min]), i64([0]), i64([-4])]).int64Values() == [9, 5, 1])
    // Step 3 with an end past the size.
    #expect(try evaluate("Slice", [data, i64([1]), i64([100]), nil, i64([3])]).int64Values() == [1, 4, 7])
    // Opset 1: attributes; axis 1 of a 2×3.
    let matrix = i64([1, 2, 3, 4, 5, 6], [2, 3])
    let columns = try evaluate("Slice", [matrix], [Attribute(name: "starts", value: .ints([1])), Attribute(name: "ends", value: .ints([3])),
                                                  Attribute(name: "axes", value: .ints([1]))])
    #expect(columns.shape == [2, 2] && columns.int64Values() == [2, 3, 5, 6])
    #expect(code { () throws(FoldFailure) in try evaluate("Slice", [data, i64([0]), i64([2]), nil, i64([0])]) } == .foldMalformed)
}

@Test func unsqueezeAndSqueezeInBothForms() throws {
    let scalar = i64([7], [])
    #expect(try evaluate("Unsqueeze", [scalar, i64([0])]).shape == [1])
    #expect(try evaluate("Unsqueeze", [scalar], [Attribute(name: "axes", value: .ints([0, -1]))]).shape == [1, 1])
    let column = i64([1, 2], [2, 1])
    #expect(try evaluate("Squeeze", [column]).shape == [2])
    #expect(try evaluate("Squeeze", [column, i64([-1])]).shape == [2])
    #expect(code { () throws(FoldFailure) in try evaluate("Squeeze", [column, i64([0])]) } == .foldMalformed)
    #expect(code { () throws(FoldFailure) in try evaluate("Unsqueeze", [scalar, i64([0, 0])]) } == .foldMalformed)
}

@Test func reshapeCopiesZerosInfersMinusOneAndHonoursAllowZero() throws {
    let data = i64(Array(0..<24), [2, 3, 4])
    #expect(try evaluate("Reshape", [data, i64([0, -1])]).shape == [2, 12])
    #expect(try evaluate("Reshape", [data, i64([-1, 2, 2])]).shape == [6, 2, 2])
    let empty = i64([], [0, 3])
    #expect(try evaluate("Reshape", [empty, i64([3, 0])], [Attribute(name: "allowzero", value: .int(1))]).shape == [3, 0])
    #expect(code { () throws(FoldFailure) in try evaluate("Reshape", [data, i64([5, -1])]) } == .foldMalformed)
    #expect(code { () throws(FoldFailure) in try evaluate("Reshape", [data, i64([-1, -1])]) } == .foldMalformed)
}

@Test func concatShapeAndSize() throws {
    let joined = try evaluate("Concat", [i64([1]), i64([2, 58]), i64([12])], [Attribute(name: "axis", value: .int(0))])
    #expect(joined.int64Values() == [1, 2, 58, 12])
    let data = try Tensor(float32: Array(repeating: 0, count: 24), shape: [1, 2, 3, 4])
    #expect(try evaluate("Shape", [data]).int64Values() == [1, 2, 3, 4])
    #expect(try evaluate("Shape", [data], [Attribute(name: "start", value: .int(1)), Attribute(name: "end", value: .int(-1))]).int64Values() == [2, 3])
    #expect(try evaluate("Size", [data]).int64Values() == [24])
}

@Test func integerArithmeticTruncatesAndRefusesOverflowAndZeroDivisors() throws {
    #expect(try evaluate("Div", [i64([-7, 7, 116]), i64([2])]).int64Values() == [-3, 3, 58])
    #expect(try evaluate("Mul", [i64([3], []), i64([2, 4])]).int64Values() == [6, 12])
    #expect(try evaluate("Sub", [i64([1, 2], [2, 1]), i64([10, 20])]).int64Values() == [-9, -19, -8, -18])
    #expect(code { () throws(FoldFailure) in try evaluate("Div", [i64([1]), i64([0])]) } == .foldDivisionByZero)
    #expect(code { () throws(FoldFailure) in try evaluate("Add", [i64([Int64.max]), i64([1])]) } == .foldIntegerOverflow)
    #expect(code { () throws(FoldFailure) in try evaluate("Div", [i64([Int64.min]), i64([-1])]) } == .foldIntegerOverflow)
    let floats = try Tensor(float32: [1], shape: [1]), doubles = try Tensor(float64: [1], shape: [1])
    #expect(code { () throws(FoldFailure) in try evaluate("Add", [floats, doubles]) } == .foldTypeUnsupported)
    #expect(code { () throws(FoldFailure) in try evaluate("Sqrt", [i64([4])]) } == .foldTypeUnsupported)
}

@Test func floatArithmeticIsOneRoundingInTheOperandsType() throws {
    // The fold must give the float32 operation's bits: 0.1f + 0.2f = 0x3E99999A.
    let a = try Tensor(float32: [0.1, 1, -1, 0], shape: [4]), b = try Tensor(float32: [0.2], shape: [1])
    let sum = try evaluate("Add", [a, b]).elements(as: Float.self)
    #expect(sum.map(\.bitPattern) == [Float(0.1) + Float(0.2), 1 + Float(0.2), -1 + Float(0.2), Float(0.2)].map(\.bitPattern))
    #expect(sum[0].bitPattern == 0x3E99_999A)
    let zero = try Tensor(float32: [0], shape: [1])
    let quotient = try evaluate("Div", [a, zero]).elements(as: Float.self)
    #expect(quotient[1] == .infinity && quotient[2] == -.infinity && quotient[3].isNaN)
    let column = try Tensor(float64: [2, 3], shape: [2, 1]), row = try Tensor(float64: [10, 20, 30], shape: [3])
    let product = try evaluate("Mul", [column, row])
    #expect(product.shape == [2, 3] && product.elementType == .float64)
    #expect(product.elements(as: Double.self) == [20, 40, 60, 30, 60, 90])
    #expect(try evaluate("Sub", [row, column]).elements(as: Double.self) == [8, 18, 28, 7, 17, 27])
    // The BN variance + ε then √ chain of a TorchScript export, in float32 bits.
    let variance = try Tensor(float32: [0.5, 2, -1], shape: [3])
    let roots = try evaluate("Sqrt", [variance]).elements(as: Float.self)
    #expect(roots[0] == Float(0.5).squareRoot() && roots[1] == Float(2).squareRoot() && roots[2].isNaN)
}

@Test func castTruncatesWrapsAndRefusesNaN() throws {
    let to = { (type: ElementType) in [Attribute(name: "to", value: .int(Int64(type.rawValue)))] }
    let floats = try Tensor(float64: [2.9, -2.9, 0.0], shape: [3])
    #expect(try evaluate("Cast", [floats], to(.int64)).int64Values() == [2, -2, 0])
    #expect(try evaluate("Cast", [floats], to(.bool)).int64Values() == [1, 1, 0])
    #expect(try evaluate("Cast", [i64([4_294_967_297])], to(.int32)).int64Values() == [1])
    #expect(try evaluate("Cast", [i64([3])], to(.float32)).doubleValues() == [3])
    let nan = try Tensor(float32: [.nan], shape: [1])
    #expect(code { () throws(FoldFailure) in try evaluate("Cast", [nan], to(.int64)) } == .foldIntegerOverflow)
    #expect(try evaluate("Cast", [nan], to(.bool)).int64Values() == [1])
}

@Test func rangeAndConstantOfShapeAreBounded() throws {
    #expect(try evaluate("Range", [i64([1], []), i64([10], []), i64([3], [])]).int64Values() == [1, 4, 7])
    #expect(try evaluate("Range", [i64([10], []), i64([1], []), i64([-4], [])]).int64Values() == [10, 6, 2])
    #expect(try evaluate("Range", [i64([5], []), i64([1], []), i64([1], [])]).shape == [0])
    #expect(code { () throws(FoldFailure) in try evaluate("Range", [i64([0], []), i64([Int64.max], []), i64([1], [])]) } == .foldTooLarge)
    let zeros = try evaluate("ConstantOfShape", [i64([2, 3])])
    #expect(zeros.elementType == .float32 && zeros.shape == [2, 3] && zeros.doubleValues() == Array(repeating: 0, count: 6))
    let sevens = try evaluate("ConstantOfShape", [i64([2])], [Attribute(name: "value", value: .tensor(i64([7], [1])))])
    #expect(sevens.int64Values() == [7, 7])
    #expect(code { () throws(FoldFailure) in try evaluate("ConstantOfShape", [i64([1 << 12, 1 << 12])]) } == .foldTooLarge)
}

@Test func expandTransposeEqualWhere() throws {
    let column = try Tensor(float32: [0.5, 1.5], shape: [2, 1])
    let expanded = try evaluate("Expand", [column, i64([2, 3])])
    #expect(expanded.shape == [2, 3] && expanded.doubleValues() == [0.5, 0.5, 0.5, 1.5, 1.5, 1.5])
    let matrix = i64([1, 2, 3, 4, 5, 6], [2, 3])
    let transposed = try evaluate("Transpose", [matrix], [Attribute(name: "perm", value: .ints([1, 0]))])
    #expect(transposed.shape == [3, 2] && transposed.int64Values() == [1, 4, 2, 5, 3, 6])
    let mask = try evaluate("Equal", [i64([-1, 2, -1]), i64([-1], [])])
    #expect(mask.elementType == .bool && mask.int64Values() == [1, 0, 1])
    #expect(try evaluate("Where", [mask, i64([1], []), i64([7, 8, 9])]).int64Values() == [1, 8, 1])
    #expect(code { () throws(FoldFailure) in try evaluate("Transpose", [matrix], [Attribute(name: "perm", value: .ints([0, 0]))]) } == .foldMalformed)
}
