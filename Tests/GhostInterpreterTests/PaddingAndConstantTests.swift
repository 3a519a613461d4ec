import GhostInterpreter
import GhostIR
import Testing


@Test(arguments: [
    // mode, pads [begin0, begin1, end0, end1], expected 2-D result
    ("constant", [Int64(0), 1, 1, 0], [[9, 1, 2, 3], [9, 4, 5, 6], [9, 9, 9, 9]] as [[Float]]),
    ("edge", [1, 2, 0, 1], [[1, 1, 1, 2, 3, 3], [1, 1, 1, 2, 3, 3], [4, 4, 4, 5, 6, 6]]),
    ("reflect", [1, 2, 0, 2], [[6, 5, 4, 5, 6, 5, 4], [3, 2, 1, 2, 3, 2, 1], [6, 5, 4, 5, 6, 5, 4]]),
    ("wrap", [0, 2, 1, 1], [[2, 3, 1, 2, 3, 1], [5, 6, 4, 5, 6, 4], [2, 3, 1, 2, 3, 1]]),
    ("constant", [0, -1, 0, 1], [[2, 3, 9], [5, 6, 9]]),  // a negative pad crops
])
func padModes(mode: String, pads: [Int64], expected: [[Float]]) throws {
    let grid = try f32([1, 2, 3, 4, 5, 6], [2, 3])
    let out = try runSingle("Pad", inputs: [("x", grid)], constants: [("p", try i64(pads)), ("v", try f32([9], []))],
                            attributes: [attribute("mode", mode)], opset: 19)
    #expect(out.shape == [expected.count, expected[0].count])
    #expect(out.floats == expected.flatMap { $0 })
}

@Test func padFormsAcrossOpsets() throws {
    let grid = try f32([1, 2, 3, 4, 5, 6], [2, 3])
    // Opset 2: pads and value as attributes.
    let legacy = try runSingle("Pad", inputs: [("x", grid)], attributes: [attribute("pads", [1, 0, 0, 0]), floatAttribute("value", Float(-1))], opset: 2)
    #expect(legacy.floats == [-1, -1, -1, 1, 2, 3, 4, 5, 6])
    // Opset 18: pads for the listed axes only; no constant_value means 0.
    let axes = try runSingle("Pad", inputs: [("x", grid)], constants: [("p", try i64([1, 2])), ("a", try i64([-1]))],
                             nodeInputs: ["x", "p", "", "a"], opset: 18)
    #expect(axes.shape == [2, 6])
    #expect(axes.floats == [0, 1, 2, 3, 0, 0, 0, 4, 5, 6, 0, 0])
    // Integer tensors pad with integers.
    let integers = try runSingle("Pad", constants: [("x", try i64([7, 8])), ("p", try i64([1, 1])), ("v", try i64([-5], []))], opset: 13)
    #expect(integers.int64s == [-5, 7, 8, -5])
    expectInterpreterError("invalid-node") {
        _ = try runSingle("Pad", inputs: [("x", grid)], constants: [("p", try i64([1, 1]))], opset: 13)
    }
    expectInterpreterError("unsupported-attribute") {
        _ = try runSingle("Pad", inputs: [("x", grid)], constants: [("p", try i64([0, 0, 0, 0]))], attributes: [attribute("mode", "symmetric")], opset: 13)
    }
    expectInterpreterError("tensor-too-large") {
        _ = try runSingle("Pad", inputs: [("x", grid)], constants: [("p", try i64([0, 0, 1 << 40, 1 << 40]))], opset: 13)
    }
    // A begin pad of 1 − 2⁶³ with an end pad of 2⁶³ − 1 keeps the axis's size, but its output
    // indices would read input index o + 2⁶³ − 1 (the attribute fuzzer's case; it trapped): a
    // typed error, in every mode. A crop with pads that fit still works beside it.
    for mode in ["constant", "edge", "reflect", "wrap"] {
        expectInterpreterError("invalid-node") {
            _ = try runSingle("Pad", inputs: [("x", grid)], constants: [("p", try i64([0, -Int64.max, 0, Int64.max]))],
                              attributes: [attribute("mode", mode)], opset: 13)
        }
        expectInterpreterError("invalid-node") {
            _ = try runSingle("Pad", inputs: [("x", grid)], attributes: [attribute("pads", [0, -Int64.max, 0, Int64.max]),
                                                                         attribute("mode", mode)], opset: 2)
        }
    }
    let cropped = try runSingle("Pad", inputs: [("x", grid)], constants: [("p", try i64([0, -2, 0, 1]))], opset: 13)
    #expect(cropped.floats == [3, 0, 6, 0])
}

@Test func constantInEveryValueForm() throws {
    func constant(_ attribute: Attribute, precision: Precision = .float32) throws -> Tensor {
        try runSingle("Constant", attributes: [attribute], precision: precision)
    }
    let tensor = try constant(Attribute(name: "value", value: .tensor(try i64([4, 5], [2, 1]))))
    #expect(tensor.shape == [2, 1] && tensor.int64s == [4, 5])
    #expect(try constant(floatAttribute("value_float", Float(2.5))).floats == [2.5])
    #expect(try constant(floatAttribute("value_float", Float(2.5))).shape == [])
    #expect(try constant(Attribute(name: "value_floats", value: .floats([1, 2])), precision: .float64).doubles == [1, 2])
    #expect(try constant(attribute("value_int", 7)).int64s == [7])
    #expect(try constant(attribute("value_ints", [1, 2, 3])).shape == [3])
    let weights = try constant(Attribute(name: "value", value: .tensor(try f32([0.1], [1]))), precision: .float64)
    #expect(weights.elementType == .float64 && weights.doubles == [Double(Float(0.1))])
    expectInterpreterError("unsupported-attribute") {
        _ = try constant(Attribute(name: "value_string", value: .string(Array("text".utf8))))
    }
}

@Test func constantOfShapeFillsTheRequestedShape() throws {
    let zeros = try runSingle("ConstantOfShape", constants: [("s", try i64([2, 3]))])
    #expect(zeros.shape == [2, 3] && zeros.elementType == .float32 && zeros.floats.allSatisfy { $0 == 0 })
    let sevens = try runSingle("ConstantOfShape", constants: [("s", try i64([4]))],
                               attributes: [Attribute(name: "value", value: .tensor(try i64([7], [1])))])
    #expect(sevens.int64s == [7, 7, 7, 7])
    #expect(try runSingle("ConstantOfShape", constants: [("s", try i64([]))]).shape == [])
    expectInterpreterError("tensor-too-large") {
        _ = try runSingle("ConstantOfShape", constants: [("s", try i64([1 << 32, 1 << 32]))])
    }
    expectInterpreterError("invalid-node") { _ = try runSingle("ConstantOfShape", constants: [("s", try i64([2, -1]))]) }
}

@Test func castBetweenTypes() throws {
    let x = try f32([-2.7, -0.5, 0, 0.5, 1.9, 300.25], [6])
    func cast(_ type: ElementType, _ input: Tensor = x, precision: Precision = .float32) throws -> Tensor {
        try runSingle("Cast", inputs: [("x", input)], attributes: [attribute("to", Int64(type.rawValue))], precision: precision)
    }
    let int64 = try cast(.int64)
    #expect(int64.elementType == .int64 && int64.int64s == [-2, 0, 0, 0, 1, 300])  // toward zero
    let int8 = try cast(.int8)
    #expect(int8.elementType == .int8 && int8.elements(as: Int8.self) == [-2, 0, 0, 0, 1, 44])  // 300 wraps
    let bool = try cast(.bool)
    #expect(bool.elementType == .bool && bool.elements(as: UInt8.self) == [1, 1, 0, 1, 1, 1])
    // A cast to float16 rounds in a float32 run (half spacing near 300 is 0.25; 65504 is the
    // largest half, 70000 overflows to infinity).
    let half = try cast(.float16, try f32([1.0 / 3, 300.1, 65504, 70000], [4]))
    #expect(half.floats == [0.33325195, 300, 65504, .infinity])
    let back = try cast(.float32, try i64([3, -4]))
    #expect(back.floats == [3, -4])
    #expect(try cast(.float64, try i64([3]), precision: .float64).doubles == [3])
    expectInterpreterError("unsupported-attribute") { _ = try runSingle("Cast", inputs: [("x", x)], attributes: [attribute("to", 8)]) }
}

@Test func unsignedIntegersKeepTheirValues() throws {
    // uint64 and uint8 data survive the trip through the interpreter's Int64 storage.
    let u64 = try Tensor(elementType: .uint64, shape: [3], storage: TensorStorage(values: [UInt64(4), 5, 6]))
    let out = try runSingle("Pow", inputs: [("x", try f32([2, 2, 2], [3])), ("y", u64)])
    #expect(out.floats == [16, 32, 64])
    let u8 = try Tensor(elementType: .uint8, shape: [2], storage: TensorStorage(values: [UInt8(200), 7]))
    let identity = try runSingle("Identity", inputs: [("x", u8)])
    #expect(identity.elementType == .uint8 && identity.elements(as: UInt8.self) == [200, 7])
}
