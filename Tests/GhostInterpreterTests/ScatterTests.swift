import GhostInterpreter
import GhostIR
import Testing

/// A reduction as the tests compute it, on Double (max/min as ONNX Runtime: a NaN update wins,
/// a NaN in the data gives way to a number).
private func reduce(_ reduction: String, _ data: Double, _ update: Double) -> Double {
    switch reduction {
    case "add": data + update
    case "mul": data * update
    case "max": update < data ? data : update
    case "min": data < update ? data : update
    default: update
    }
}

/// Runs a scatter op in both precisions with float data and checks it against `expected`.
private func expectScatter(
    _ op: String, data: [Double], _ shape: [Int], indices: [Int64], _ indexShape: [Int], updates: [Double], _ updateShape: [Int],
    attributes: [Attribute], opset: Int64 = 18, expected: [Double], sourceLocation: SourceLocation = #_sourceLocation
) throws {
    for precision in Precision.allCases {
        let x = precision == .float64 ? try f64(data, shape) : try f32(data.map { Float($0) }, shape)
        let u = precision == .float64 ? try f64(updates, updateShape) : try f32(updates.map { Float($0) }, updateShape)
        let out = try runSingle(op, inputs: [("x", x), ("u", u)], constants: [("i", try i64(indices, indexShape))],
                                attributes: attributes, nodeInputs: ["x", "i", "u"], opset: opset, precision: precision)
        let actual = precision == .float64 ? out.doubles : out.floats.map(Double.init)
        #expect(out.shape == shape, sourceLocation: sourceLocation)
        let same = actual.count == expected.count && zip(actual, expected).allSatisfy { $0 == $1 || ($0.isNaN && $1.isNaN) }
        #expect(same, "\(op) \(precision) \(attributes.map(\.name)): \(actual) vs \(expected)", sourceLocation: sourceLocation)
    }
}

@Test func scatterElementsEveryAxisAndReduction() throws {
    let shape = [3, 4, 2]
    let data = pattern(24).map { Double($0) / 4 }
    for axis in [0, 1, 2, -1] {
        let a = axis < 0 ? axis + 3 : axis
        var indexShape = [2, 3, 2]
        indexShape[a] = 3
        let count = indexShape.reduce(1, *)
        let size = shape[a]
        // Repeated and negative indices: updates apply in order.
        let indices = (0..<count).map { Int64(($0 * 3) % (2 * size) - size) }
        let updates = (0..<count).map { Double($0) - 5.5 }
        for reduction in ["none", "add", "mul", "max", "min"] {
            var expected = data
            for k in 0..<count {
                var position = coordinates(k, indexShape)
                let index = Int(indices[k])
                position[a] = index < 0 ? index + size : index
                let at = flatIndex(position, shape)
                expected[at] = reduce(reduction, expected[at], updates[k])
            }
            try expectScatter("ScatterElements", data: data, shape, indices: indices, indexShape, updates: updates, indexShape,
                              attributes: [attribute("axis", Int64(axis)), attribute("reduction", reduction)], expected: expected)
        }
    }
}

@Test func scatterMaxAndMinWithNaNAsOnnxRuntime() throws {
    // ONNX Runtime: max(1, NaN) = NaN, max(NaN, 5) = 5 (data, update); the same for min.
    let data: [Double] = [1, .nan, 3, 4]
    for op in ["ScatterElements", "ScatterND"] {
        let shape = op == "ScatterND" ? [3, 1] : [3]
        for reduction in ["max", "min"] {
            try expectScatter(op, data: data, [4], indices: [0, 1, 2], shape, updates: [.nan, 5, .nan], [3],
                              attributes: [attribute("reduction", reduction)], expected: [.nan, 5, .nan, 4])
        }
        try expectScatter(op, data: data, [4], indices: [0, 1, 2], shape, updates: [.infinity, 5, -.infinity], [3],
                          attributes: [attribute("reduction", "add")], expected: [.infinity, .nan, -.infinity, 4])
    }
}

@Test func deprecatedScatterIsScatterElements() throws {
    // as ONNX's example: axis 1 of [[1, 2, 3, 4, 5]].
    try expectScatter("Scatter", data: [1, 2, 3, 4, 5], [1, 5], indices: [1, 3], [1, 2], updates: [1.5, 2.25], [1, 2],
                      attributes: [attribute("axis", 1)], opset: 10, expected: [1, 1.5, 3, 2.25, 5])
}

@Test func scatterNDBlocksAndReductions() throws {
    let shape = [2, 3, 4]
    let data = pattern(24).map { Double($0) }
    for m in 1...3 {
        let tuples = 4
        let indices = (0..<(tuples * m)).map { k -> Int64 in
            let size = Int64(shape[k % m])
            return Int64(k * 5) % (2 * size) - size
        }
        let trailing = Array(shape[m...])
        let block = trailing.reduce(1, *)
        let updates = (0..<(tuples * block)).map { Double($0) * 0.5 - 3 }
        for reduction in ["none", "add", "mul", "max", "min"] {
            var expected = data
            for t in 0..<tuples {
                let prefix = (0..<m).map { k -> Int in
                    let index = Int(indices[t * m + k])
                    return index < 0 ? index + shape[k] : index
                }
                for i in 0..<block {
                    let at = flatIndex(prefix + coordinates(i, trailing), shape)
                    expected[at] = reduce(reduction, expected[at], updates[t * block + i])
                }
            }
            try expectScatter("ScatterND", data: data, shape, indices: indices, [tuples, m], updates: updates, [tuples] + trailing,
                              attributes: [attribute("reduction", reduction)], expected: expected)
        }
    }
}

@Test func scatterOnIntegersAndBools() throws {
    // int32 data keeps its type; add wraps at 32 bits.
    let ints = try Tensor(elementType: .int32, shape: [3], storage: TensorStorage(values: [Int32.max, 5, 7]))
    let intUpdates = try Tensor(elementType: .int32, shape: [2], storage: TensorStorage(values: [Int32(1), -2]))
    let added = try runSingle("ScatterElements", inputs: [("x", ints), ("u", intUpdates)], constants: [("i", try i64([0, -1]))],
                              attributes: [attribute("reduction", "add")], nodeInputs: ["x", "i", "u"])
    #expect(added.elementType == .int32)
    #expect(added.elements(as: Int32.self) == [Int32.min, 5, 5])
    let bools = try Tensor(elementType: .bool, shape: [2, 2], storage: TensorStorage(values: [UInt8(1), 0, 0, 1]))
    let boolUpdates = try Tensor(elementType: .bool, shape: [1, 2], storage: TensorStorage(values: [UInt8(0), 1]))
    let written = try runSingle("ScatterND", inputs: [("x", bools), ("u", boolUpdates)], constants: [("i", try i64([1], [1, 1]))],
                                nodeInputs: ["x", "i", "u"])
    #expect(written.elements(as: UInt8.self) == [1, 0, 0, 1])
    let ored = try runSingle("ScatterND", inputs: [("x", bools), ("u", boolUpdates)], constants: [("i", try i64([0], [1, 1]))],
                             attributes: [attribute("reduction", "add")], nodeInputs: ["x", "i", "u"])
    #expect(ored.elements(as: UInt8.self) == [1, 1, 0, 1])
}

@Test func scatterRefusesBadIndicesAndShapes() throws {
    let x = try f32([1, 2, 3, 4, 5, 6], [2, 3])
    func scatter(_ op: String, _ indices: Tensor, _ updates: Tensor, _ attributes: [Attribute] = []) throws {
        _ = try runSingle(op, inputs: [("x", x), ("u", updates)], constants: [("i", indices)], attributes: attributes, nodeInputs: ["x", "i", "u"])
    }
    expectInterpreterError("invalid-node") { try scatter("ScatterElements", try i64([3], [1, 1]), try f32([9], [1, 1]), [attribute("axis", 1)]) }
    expectInterpreterError("invalid-node") { try scatter("ScatterElements", try i64([-3], [1, 1]), try f32([9], [1, 1])) }
    expectInterpreterError("invalid-node") { try scatter("ScatterElements", try i64([0, 0], [1, 2]), try f32([9], [1, 1])) }
    expectInterpreterError("invalid-node") { try scatter("ScatterND", try i64([2, 0], [1, 2]), try f32([9], [1])) }
    expectInterpreterError("invalid-node") { try scatter("ScatterND", try i64([1], [1, 1]), try f32([9, 9], [1, 2])) }
    expectInterpreterError("invalid-node") { try scatter("ScatterND", try i64([1], [1, 1]), try i64([9, 9, 9], [1, 3])) }
    expectInterpreterError("unsupported-attribute") {
        try scatter("ScatterND", try i64([1], [1, 1]), try f32([9, 9, 9], [1, 3]), [attribute("reduction", "mean")])
    }
}
