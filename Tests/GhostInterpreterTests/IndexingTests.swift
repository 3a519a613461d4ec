import GhostInterpreter
import GhostIR
import Testing

/// The element types a data-movement operator must handle alike: float32 and float64 runs,
/// an integer type that must be kept (int32), and bool.
enum MovedKind: CaseIterable, CustomStringConvertible {
    case float32, float64, int32, bool

    var description: String {
        switch self {
        case .float32: "float32"
        case .float64: "float64"
        case .int32: "int32"
        case .bool: "bool"
        }
    }

    var precision: Precision { self == .float64 ? .float64 : .float32 }

    /// `values` as this kind (bool: odd values are true).
    func tensor(_ values: [Int], _ shape: [Int]) throws -> Tensor {
        switch self {
        case .float32: try f32(values.map { Float($0) }, shape)
        case .float64: try f64(values.map { Double($0) }, shape)
        case .int32: try Tensor(elementType: .int32, shape: shape, storage: TensorStorage(values: values.map { Int32($0) }))
        case .bool: try Tensor(elementType: .bool, shape: shape, storage: TensorStorage(values: values.map { UInt8($0 & 1) }))
        }
    }

    /// What `tensor` makes of `value`, read back as an Int.
    func stored(_ value: Int) -> Int { self == .bool ? value & 1 : value }

    func values(_ tensor: Tensor) -> [Int] {
        switch self {
        case .float32: tensor.floats.map { Int($0) }
        case .float64: tensor.doubles.map { Int($0) }
        case .int32: tensor.elements(as: Int32.self).map { Int($0) }
        case .bool: tensor.elements(as: UInt8.self).map { Int($0) }
        }
    }

    var elementType: ElementType {
        switch self {
        case .float32: .float32
        case .float64: .float64
        case .int32: .int32
        case .bool: .bool
        }
    }
}

/// Distinct-looking nonzero test data: 1 + 7i mod 97, with both parities.
func pattern(_ count: Int) -> [Int] { (0..<count).map { 1 + ($0 * 7) % 97 } }

/// The C-order coordinates of flat index `flat` in `shape`.
func coordinates(_ flat: Int, _ shape: [Int]) -> [Int] {
    var remainder = flat
    var result = [Int](repeating: 0, count: shape.count)
    for axis in shape.indices.reversed() {
        result[axis] = remainder % shape[axis]
        remainder /= shape[axis]
    }
    return result
}

/// The flat C-order index of `coordinates` in `shape`.
func flatIndex(_ coordinates: [Int], _ shape: [Int]) -> Int {
    zip(coordinates, shape).reduce(0) { $0 * $1.1 + $1.0 }
}

/// Runs a data-movement op on `data` in every kind and checks out[i] = data[source(i)] (0 where
/// `source` gives nil), the shape, and that the element type is kept.
func expectMoves(
    _ op: String, data: [Int], _ shape: [Int], constants: [(String, Tensor)] = [], attributes: [Attribute] = [],
    opset: Int64 = 18, outShape: [Int], source: (Int) -> Int?, sourceLocation: SourceLocation = #_sourceLocation
) throws {
    let count = outShape.reduce(1, *)
    for kind in MovedKind.allCases {
        let out = try runSingle(op, inputs: [("x", try kind.tensor(data, shape))], constants: constants,
                                attributes: attributes, opset: opset, precision: kind.precision)
        #expect(out.shape == outShape, "\(op) \(kind): shape", sourceLocation: sourceLocation)
        #expect(out.elementType == kind.elementType, "\(op) \(kind): type", sourceLocation: sourceLocation)
        let expected = (0..<count).map { source($0).map { kind.stored(data[$0]) } ?? 0 }
        #expect(kind.values(out) == expected, "\(op) \(kind)", sourceLocation: sourceLocation)
    }
}

// MARK: Expand and Tile

@Test func expandBroadcastsBothWays() throws {
    let cases: [([Int], [Int64])] = [
        ([3, 1], [2, 1, 4]),         // input broadcast along its last axis, a new leading axis
        ([1, 4, 1, 1], [2, 4, 3, 5]), // a per-channel vector over a feature map
        ([2, 3, 4], [1]),             // a shape of lower rank leaves the input as it is
        ([2, 1, 4], [3, 1]),          // both grow: [2, 3, 4]
        ([], [2, 2]),                 // a scalar
        ([2, 1, 3, 1], [2, 2, 3, 2]),
    ]
    for (shape, target) in cases {
        let (outShape, pairs) = broadcastIndexPairs(shape, target.map { Int($0) })
        try expectMoves("Expand", data: pattern(shape.reduce(1, *)), shape, constants: [("shape", try i64(target))],
                        outShape: outShape, source: { pairs[$0].0 })
    }
    // A 0 in the shape broadcasts against a 1 to 0 (numpy).
    let empty = try runSingle("Expand", inputs: [("x", try f32([1, 2, 3], [3, 1]))], constants: [("shape", try i64([2, 1, 0]))])
    #expect(empty.shape == [2, 3, 0])
}

@Test func expandRefusesIncompatibleAndHugeShapes() throws {
    let x = try f32([1, 2, 3, 4, 5, 6], [3, 2])
    expectInterpreterError("invalid-node") {
        _ = try runSingle("Expand", inputs: [("x", x)], constants: [("shape", try i64([3, 4]))])
    }
    expectInterpreterError("invalid-node") {
        _ = try runSingle("Expand", inputs: [("x", x)], constants: [("shape", try i64([-1, 2]))])
    }
    expectInterpreterError("tensor-too-large") {
        _ = try runSingle("Expand", inputs: [("x", x)], constants: [("shape", try i64([1 << 20, 1 << 20, 3, 2]))])
    }
}

@Test func tileRepeatsEachAxis() throws {
    let cases: [([Int], [Int64])] = [([3], [4]), ([2, 3], [2, 1]), ([2, 3], [1, 3]), ([2, 1, 3], [2, 3, 2]), ([2, 2], [0, 2]), ([4], [1])]
    for (shape, repeats) in cases {
        let outShape = zip(shape, repeats).map { $0 * Int($1) }
        try expectMoves("Tile", data: pattern(shape.reduce(1, *)), shape, constants: [("repeats", try i64(repeats))],
                        outShape: outShape, source: { flat in
                            flatIndex(zip(coordinates(flat, outShape), shape).map { $0 % $1 }, shape)
                        })
    }
}

@Test func tileRefusesBadRepeats() throws {
    let x = try f32([1, 2, 3, 4], [2, 2])
    for bad: [Int64] in [[-1, 2], [2], [1, 1, 1]] {
        expectInterpreterError("invalid-node") { _ = try runSingle("Tile", inputs: [("x", x)], constants: [("r", try i64(bad))]) }
    }
    expectInterpreterError("tensor-too-large") {
        _ = try runSingle("Tile", inputs: [("x", x)], constants: [("r", try i64([1 << 40, 1 << 40]))])
    }
    expectInterpreterError("tensor-too-large") {
        _ = try runSingle("Tile", inputs: [("x", x)], constants: [("r", try i64([Int64.max, 2]))])
    }
}

// MARK: GatherElements and GatherND

@Test func gatherElementsOnEveryAxis() throws {
    let dataShape = [3, 4, 5]
    let data = pattern(60)
    for axis in [0, 1, 2, -1, -3] {
        let a = axis < 0 ? axis + 3 : axis
        var indexShape = [2, 3, 4]
        indexShape[a] = 6  // longer than the data along the axis is allowed
        let count = indexShape.reduce(1, *)
        let size = dataShape[a]
        // Indices cover −size..<size, negative ones too.
        let indices = (0..<count).map { Int64(($0 * 5) % (2 * size) - size) }
        try expectMoves("GatherElements", data: data, dataShape, constants: [("i", try i64(indices, indexShape))],
                        attributes: [attribute("axis", Int64(axis))], outShape: indexShape, source: { flat in
                            var position = coordinates(flat, indexShape)
                            let index = Int(indices[flat])
                            position[a] = index < 0 ? index + size : index
                            return flatIndex(position, dataShape)
                        })
    }
    // int32 indices read the same.
    let out = try runSingle("GatherElements", inputs: [("x", try f32([1, 2, 3, 4], [2, 2]))],
                            constants: [("i", try Tensor(elementType: .int32, shape: [2, 2], storage: TensorStorage(values: [Int32(1), -2, 0, 1])))],
                            attributes: [attribute("axis", 1)])
    #expect(out.floats == [2, 1, 3, 4])
}

@Test func gatherElementsRefusesOutOfRange() throws {
    let x = try f32([1, 2, 3, 4, 5, 6], [2, 3])
    for (indices, shape, axis) in [([3, 0], [1, 2], 1), ([-4, 0], [1, 2], 1), ([2, 0], [2, 1], 0)] as [([Int64], [Int], Int64)] {
        let error = expectInterpreterError("invalid-node") {
            _ = try runSingle("GatherElements", inputs: [("x", x)], constants: [("i", try i64(indices, shape))], attributes: [attribute("axis", axis)])
        }
        #expect(error?.localizedDescription.contains("'N'") == true)
    }
    // Longer than the data off the gather axis, and a rank mismatch.
    expectInterpreterError("invalid-node") {
        _ = try runSingle("GatherElements", inputs: [("x", x)], constants: [("i", try i64([0, 0, 0], [3, 1]))], attributes: [attribute("axis", 1)])
    }
    expectInterpreterError("invalid-node") {
        _ = try runSingle("GatherElements", inputs: [("x", x)], constants: [("i", try i64([0, 0]))], attributes: [attribute("axis", 1)])
    }
    expectInterpreterError("invalid-node") {
        _ = try runSingle("GatherElements", inputs: [("x", x)], constants: [("i", try f32([0, 0], [1, 2]))], attributes: [attribute("axis", 1)])
    }
}

@Test func gatherNDWithBatchDims() throws {
    let dataShape = [2, 3, 4]
    let data = pattern(24)
    // batch_dims 0: tuples of length 1, 2 and 3.
    for m in 1...3 {
        let tuples = 5
        let indices = (0..<(tuples * m)).map { k -> Int64 in
            let size = Int64(dataShape[k % m])
            return Int64(k * 3) % (2 * size) - size
        }
        let trailing = Array(dataShape[m...])
        let block = trailing.reduce(1, *)
        try expectMoves("GatherND", data: data, dataShape, constants: [("i", try i64(indices, [tuples, m]))],
                        outShape: [tuples] + trailing, source: { flat in
                            let t = flat / block
                            var position = (0..<m).map { k -> Int in
                                let index = Int(indices[t * m + k])
                                return index < 0 ? index + dataShape[k] : index
                            }
                            position += coordinates(flat % block, trailing)
                            return flatIndex(position, dataShape)
                        })
    }
    // batch_dims 1: each batch entry picks from its own [3, 4] slice.
    let indices: [Int64] = [0, 1, -1, -1, 2, 0, 1, 3]  // [2, 2, 2]
    try expectMoves("GatherND", data: data, dataShape, constants: [("i", try i64(indices, [2, 2, 2]))],
                    attributes: [attribute("batch_dims", 1)], outShape: [2, 2], source: { flat in
                        let b = flat / 2, t = flat % 2
                        let i = Int(indices[(b * 2 + t) * 2]), j = Int(indices[(b * 2 + t) * 2 + 1])
                        return flatIndex([b, i < 0 ? i + 3 : i, j < 0 ? j + 4 : j], dataShape)
                    })
}

@Test func gatherNDRefusesBadIndices() throws {
    let x = try f32(pattern(6).map { Float($0) }, [2, 3])
    for (indices, shape) in [([0, 3], [1, 2]), ([-3, 0], [1, 2]), ([0, 0, 0], [1, 3])] as [([Int64], [Int])] {
        expectInterpreterError("invalid-node") {
            _ = try runSingle("GatherND", inputs: [("x", x)], constants: [("i", try i64(indices, shape))])
        }
    }
    expectInterpreterError("invalid-node") {
        _ = try runSingle("GatherND", inputs: [("x", x)], constants: [("i", try i64([0, 0], [1, 2]))], attributes: [attribute("batch_dims", 2)])
    }
}
