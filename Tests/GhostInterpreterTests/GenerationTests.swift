import GhostInterpreter
import GhostIR
import Testing

private func int32s(_ values: [Int32], _ shape: [Int]) throws -> Tensor {
    try Tensor(elementType: .int32, shape: shape, storage: TensorStorage(values: values))
}

private func bools(_ values: [Bool], _ shape: [Int]) throws -> Tensor {
    try Tensor(elementType: .bool, shape: shape, storage: TensorStorage(values: values.map { UInt8($0 ? 1 : 0) }))
}

// MARK: Range

@Test func rangeAccumulatesInEachPrecision() throws {
    for (start, limit, delta) in [(1.0, 2.0, 0.1), (10.0, -3.0, -1.5), (0.5, 0.5, 1.0), (3.0, 1.0, 1.0), (-2.0, 7.25, 0.75)] {
        // Reference: ⌈(limit − start)/delta⌉ values, each the previous plus delta in the type.
        let count = max(Int(((limit - start) / delta).rounded(.up)), 0)
        var float: [Float] = [], double: [Double] = []
        var f = Float(start), d = start
        for _ in 0..<count {
            float.append(f)
            double.append(d)
            f += Float(delta)
            d += delta
        }
        let out32 = try runSingle("Range", constants: [("s", try f32([Float(start)], [])), ("l", try f32([Float(limit)], [])),
                                                        ("d", try f32([Float(delta)], []))])
        #expect(out32.shape == [count])
        #expect(out32.floats == float)
        let out64 = try runSingle("Range", constants: [("s", try f64([start], [])), ("l", try f64([limit], [])), ("d", try f64([delta], []))],
                                  precision: .float64)
        #expect(out64.doubles == double)
    }
}

@Test func rangeOnIntegersKeepsTheType() throws {
    let out = try runSingle("Range", constants: [("s", try int32s([10], [])), ("l", try int32s([-3], [])), ("d", try int32s([-4], []))])
    #expect(out.elementType == .int32)
    #expect(out.elements(as: Int32.self) == [10, 6, 2, -2])
    let exact = try runSingle("Range", constants: [("s", try i64([2], [])), ("l", try i64([11], [])), ("d", try i64([3], []))])
    #expect(exact.int64s == [2, 5, 8])
    let empty = try runSingle("Range", constants: [("s", try i64([2], [])), ("l", try i64([1], [])), ("d", try i64([3], []))])
    #expect(empty.shape == [0])
}

@Test func rangeRefusesZeroDeltaAndHugeCounts() throws {
    func range(_ s: Tensor, _ l: Tensor, _ d: Tensor) throws { _ = try runSingle("Range", constants: [("s", s), ("l", l), ("d", d)]) }
    expectInterpreterError("invalid-node") { try range(try i64([0], []), try i64([5], []), try i64([0], [])) }
    expectInterpreterError("invalid-node") { try range(try f32([0], []), try f32([5], []), try f32([0], [])) }
    expectInterpreterError("invalid-node") { try range(try f32([0], []), try f32([.nan], []), try f32([1], [])) }
    expectInterpreterError("tensor-too-large") { try range(try f32([0], []), try f32([1e12], []), try f32([1], [])) }
    expectInterpreterError("tensor-too-large") { try range(try f32([0], []), try f32([.infinity], []), try f32([1], [])) }
    expectInterpreterError("tensor-too-large") { try range(try i64([0], []), try i64([Int64.max], []), try i64([1], [])) }
    expectInterpreterError("tensor-too-large") { try range(try i64([Int64.max], []), try i64([Int64.min], []), try i64([-1], [])) }
    expectInterpreterError("tensor-too-large") { try range(try i64([0], []), try i64([Int64.min], []), try i64([-1], [])) }
    expectInterpreterError("invalid-node") { try range(try i64([0], []), try f32([3], []), try i64([1], [])) }
    expectInterpreterError("invalid-node") { try range(try i64([0, 1]), try i64([3], []), try i64([1], [])) }
}

// MARK: Trilu, EyeLike, OneHot

@Test func triluKeepsATriangle() throws {
    let shape = [2, 3, 4]
    for upper in [Int64(1), 0] {
        for k in -4...5 {
            try expectMoves("Trilu", data: pattern(24), shape, constants: [("k", try i64([Int64(k)], []))],
                            attributes: [attribute("upper", upper)], outShape: shape, source: { flat in
                                let c = coordinates(flat, shape)
                                let kept = upper == 1 ? c[2] - c[1] >= k : c[2] - c[1] <= k
                                return kept ? flat : nil
                            })
        }
    }
    // k defaults to 0; huge k keeps all or nothing.
    let x = try f32([1, 2, 3, 4], [2, 2])
    #expect(try runSingle("Trilu", inputs: [("x", x)]).floats == [1, 2, 0, 4])
    #expect(try runSingle("Trilu", inputs: [("x", x)], constants: [("k", try i64([Int64.min], []))]).floats == [1, 2, 3, 4])
    #expect(try runSingle("Trilu", inputs: [("x", x)], constants: [("k", try i64([Int64.max], []))],
                          attributes: [attribute("upper", 0)]).floats == [1, 2, 3, 4])
    expectInterpreterError("invalid-node") { _ = try runSingle("Trilu", inputs: [("x", try f32([1, 2], [2]))]) }
}

@Test func eyeLikeOnEveryDiagonalAndType() throws {
    for k in -3...4 {
        var expected = [Int](repeating: 0, count: 12)
        for i in 0..<3 where i + k >= 0 && i + k < 4 { expected[i * 4 + i + k] = 1 }
        for kind in MovedKind.allCases {
            let out = try runSingle("EyeLike", inputs: [("x", try kind.tensor(pattern(12), [3, 4]))],
                                    attributes: [attribute("k", Int64(k))], precision: kind.precision)
            #expect(out.elementType == kind.elementType)
            #expect(kind.values(out) == expected, "k \(k) \(kind)")
        }
        let typed = try runSingle("EyeLike", inputs: [("x", try f32(Array(repeating: 0, count: 12), [3, 4]))],
                                  attributes: [attribute("k", Int64(k)), attribute("dtype", Int64(ElementType.uint8.rawValue))])
        #expect(typed.elementType == .uint8)
        #expect(typed.elements(as: UInt8.self).map { Int($0) } == expected)
    }
    let doubles = try runSingle("EyeLike", inputs: [("x", try i64([0, 0, 0, 0], [2, 2]))],
                                attributes: [attribute("dtype", Int64(ElementType.float64.rawValue))], precision: .float64)
    #expect(doubles.doubles == [1, 0, 0, 1])
    expectInterpreterError("invalid-node") { _ = try runSingle("EyeLike", inputs: [("x", try f32([1, 2], [2]))]) }
    expectInterpreterError("unsupported-attribute") {
        _ = try runSingle("EyeLike", inputs: [("x", try f32([1, 2, 3, 4], [2, 2]))], attributes: [attribute("dtype", 8)])
    }
}

@Test func oneHotOnEveryAxis() throws {
    let indices: [Int64] = [0, 2, -1, 5, -3, -4, 1, 3]  // 5 and −4 are out of range for depth 3 or 4
    let indexShape = [2, 4]
    for depth in [3, 4] {
        for axis in [-1, 0, 1, 2, -3] {
            let a = axis < 0 ? axis + 3 : axis
            var shape = indexShape
            shape.insert(depth, at: a)
            var expected = [Double](repeating: -2, count: shape.reduce(1, *))
            for (flat, raw) in indices.enumerated() {
                let index = raw < 0 ? Int(raw) + depth : Int(raw)
                guard index >= 0, index < depth else { continue }
                var position = coordinates(flat, indexShape)
                position.insert(index, at: a)
                expected[flatIndex(position, shape)] = 7.5
            }
            for precision in Precision.allCases {
                let out = try runSingle("OneHot", constants: [("i", try i64(indices, indexShape)), ("d", try i64([Int64(depth)], [])),
                                                              ("v", try f32([-2, 7.5], [2]))],
                                        attributes: [attribute("axis", Int64(axis))], opset: 11, precision: precision)
                #expect(out.shape == shape)
                #expect((precision == .float64 ? out.doubles : out.floats.map(Double.init)) == expected, "depth \(depth) axis \(axis)")
            }
        }
    }
}

@Test func oneHotTypesAndErrors() throws {
    // Float indices and depth truncate toward zero; int32 values keep their type.
    let out = try runSingle("OneHot", constants: [("i", try f32([0.7, 1.9, -1.5, -0.5], [4])), ("d", try f32([3.5], [1])),
                                                  ("v", try int32s([0, 9], [2]))])
    #expect(out.elementType == .int32)
    #expect(out.elements(as: Int32.self) == [9, 0, 0, 0, 9, 0, 0, 0, 9, 9, 0, 0])
    let flags = try runSingle("OneHot", constants: [("i", try i64([1])), ("d", try i64([2], [])), ("v", try bools([false, true], [2]))])
    #expect(flags.elements(as: UInt8.self) == [0, 1])
    for depth: Int64 in [-1, 0] {
        expectInterpreterError("invalid-node") {
            _ = try runSingle("OneHot", constants: [("i", try i64([1])), ("d", try i64([depth], [])), ("v", try f32([0, 1], [2]))])
        }
    }
    expectInterpreterError("invalid-node") {
        _ = try runSingle("OneHot", constants: [("i", try i64([1])), ("d", try i64([3], [])), ("v", try f32([0, 1, 2], [3]))])
    }
    expectInterpreterError("tensor-too-large") {
        _ = try runSingle("OneHot", constants: [("i", try i64([1, 2, 3, 4])), ("d", try i64([1 << 30], [])), ("v", try f32([0, 1], [2]))])
    }
    expectInterpreterError("invalid-node") {
        _ = try runSingle("OneHot", constants: [("i", try i64([1])), ("d", try i64([3], [])), ("v", try f32([0, 1], [2]))],
                          attributes: [attribute("axis", 2)])
    }
}

// MARK: NonZero, Size, Compress, ReverseSequence

@Test func nonZeroListsCoordinatesInCOrder() throws {
    let values: [Float] = [0, 3, -0.0, .nan, 0, 0, -1, 0, .infinity, 0, 0, 2]
    for shape in [[12], [3, 4], [2, 3, 2]] {
        let nonzero = (0..<12).filter { values[$0] != 0 }
        var expected = [Int64](repeating: 0, count: shape.count * nonzero.count)
        for (n, flat) in nonzero.enumerated() {
            for (d, c) in coordinates(flat, shape).enumerated() { expected[d * nonzero.count + n] = Int64(c) }
        }
        for precision in Precision.allCases {
            let out = try runSingle("NonZero", inputs: [("x", try f32(values, shape))], precision: precision)
            #expect(out.shape == [shape.count, nonzero.count])
            #expect(out.int64s == expected)
        }
    }
    #expect(try runSingle("NonZero", inputs: [("x", try int32s([0, 5, 0, -2], [2, 2]))]).int64s == [0, 1, 1, 1])
    #expect(try runSingle("NonZero", inputs: [("x", try bools([true, false, true], [3]))]).int64s == [0, 2])
    let scalar = try runSingle("NonZero", inputs: [("x", try f32([4], []))])
    #expect(scalar.shape == [1, 1])
    #expect(scalar.int64s == [0])
}

@Test func sizeCountsElements() throws {
    for shape in [[], [0, 3], [2, 3, 4]] {
        let out = try runSingle("Size", inputs: [("x", try f32(Array(repeating: 1, count: shape.reduce(1, *)), shape))])
        #expect(out.shape == [])
        #expect(out.elementType == .int64)
        #expect(out.int64s == [Int64(shape.reduce(1, *))])
    }
}

@Test func compressAlongAxesAndFlattened() throws {
    let shape = [3, 2, 4]
    let data = pattern(24)
    let condition = [true, false, true, true, false, true]
    for axis in [0, 1, 2, -1] {
        let a = axis < 0 ? axis + 3 : axis
        // The condition is cut to the axis (longer) or drops the rest (shorter).
        let kept = (0..<shape[a]).filter { $0 < condition.count && condition[$0] }
        var outShape = shape
        outShape[a] = kept.count
        try expectMoves("Compress", data: data, shape, constants: [("c", try bools(condition, [condition.count]))],
                        attributes: [attribute("axis", Int64(axis))], outShape: outShape, source: { flat in
                            var position = coordinates(flat, outShape)
                            position[a] = kept[position[a]]
                            return flatIndex(position, shape)
                        })
    }
    let flat = (0..<condition.count).filter { condition[$0] }
    try expectMoves("Compress", data: data, shape, constants: [("c", try bools(condition, [condition.count]))],
                    outShape: [flat.count], source: { flat[$0] })
    expectInterpreterError("invalid-node") {
        _ = try runSingle("Compress", inputs: [("x", try f32([1, 2], [2]))], constants: [("c", try f32([1, 0], [2]))])
    }
}

@Test func reverseSequenceOnBothLayouts() throws {
    let lengths: [Int64] = [4, 0, 1, 3]
    for (batchAxis, timeAxis) in [(1, 0), (0, 1)] {
        var shape = [0, 0, 3]
        shape[batchAxis] = 4
        shape[timeAxis] = 4
        try expectMoves("ReverseSequence", data: pattern(48), shape, constants: [("l", try i64(lengths))],
                        attributes: [attribute("batch_axis", Int64(batchAxis)), attribute("time_axis", Int64(timeAxis))],
                        outShape: shape, source: { flat in
                            var position = coordinates(flat, shape)
                            let length = Int(lengths[position[batchAxis]]), t = position[timeAxis]
                            if t < length { position[timeAxis] = length - 1 - t }
                            return flatIndex(position, shape)
                        })
    }
    let x = try f32(Array(repeating: 0, count: 6), [3, 2])
    for bad: [Int64] in [[4, 1], [-1, 1], [1]] {
        expectInterpreterError("invalid-node") { _ = try runSingle("ReverseSequence", inputs: [("x", x)], constants: [("l", try i64(bad))]) }
    }
    expectInterpreterError("invalid-node") {
        _ = try runSingle("ReverseSequence", inputs: [("x", x)], constants: [("l", try i64([1, 1]))], attributes: [attribute("time_axis", 1)])
    }
}

// MARK: Shrink, CastLike, Det

@Test func shrinkFloatsAndIntegers() throws {
    let x: [Double] = [-3, -1.5, -1, -0.25, 0, 0.5, 1, 1.75, 4, .nan, .infinity, -.infinity]
    let expected = x.map { $0 < -1 ? $0 + 0.5 : $0 > 1 ? $0 - 0.5 : 0 }
    try expectBothPrecisions("Shrink", inputs: [("x", x, [12])], attributes: [floatAttribute("bias", 0.5), floatAttribute("lambd", 1)],
                             expected: expected.map { $0.isNaN ? 0 : $0 }, shape: [12])
    let defaults = try runSingle("Shrink", inputs: [("x", try f32([-0.75, 0.25, 0.6], [3]))])
    #expect(defaults.floats == [-0.75, 0, 0.6])
    // Integers: x ± bias in float, truncated back (ONNX Runtime): uint8 200 − 1.5 = 198, int8 −3 + 1.5 = −1.
    let bytes = try Tensor(elementType: .uint8, shape: [5], storage: TensorStorage(values: [UInt8(0), 1, 2, 3, 200]))
    let shrunkBytes = try runSingle("Shrink", inputs: [("x", bytes)], attributes: [floatAttribute("bias", 1.5), floatAttribute("lambd", 1)])
    #expect(shrunkBytes.elementType == .uint8)
    #expect(shrunkBytes.elements(as: UInt8.self) == [0, 0, 0, 1, 198])
    let signed = try Tensor(elementType: .int8, shape: [6], storage: TensorStorage(values: [Int8(-3), -1, 0, 1, 3, 100]))
    let shrunkSigned = try runSingle("Shrink", inputs: [("x", signed)], attributes: [floatAttribute("bias", 1.5), floatAttribute("lambd", 1)])
    #expect(shrunkSigned.elements(as: Int8.self) == [-1, 0, 0, 0, 1, 98])
}

@Test func castLikeTakesTheSecondInputsType() throws {
    let x = try f32([-2.7, 0, 1.5, 300.25], [4])
    let toInt32 = try runSingle("CastLike", inputs: [("x", x)], constants: [("like", try int32s([0], [1]))])
    #expect(toInt32.elementType == .int32)
    #expect(toInt32.elements(as: Int32.self) == [-2, 0, 1, 300])
    let toBool = try runSingle("CastLike", inputs: [("x", x)], constants: [("like", try bools([true], [1]))])
    #expect(toBool.elements(as: UInt8.self) == [1, 0, 1, 1])
    let toUInt8 = try runSingle("CastLike", inputs: [("x", x)], constants: [("like", try Tensor(elementType: .uint8, shape: [0], storage: TensorStorage(values: [UInt8]())))])
    #expect(toUInt8.elements(as: UInt8.self) == [254, 0, 1, 44])
    let toFloat = try runSingle("CastLike", inputs: [("x", try i64([3, -4]))], constants: [("like", try f32([0], [1]))])
    #expect(toFloat.floats == [3, -4])
    let toDouble = try runSingle("CastLike", inputs: [("x", try i64([3, -4]))], constants: [("like", try f64([0], [1]))], precision: .float64)
    #expect(toDouble.doubles == [3, -4])
    // A like-input declared bfloat16 (held as float) rounds as Cast to bfloat16 does.
    let value: Float = 0.47892547
    let graph = Graph(
        inputs: [Value(name: "x", elementType: .float32, shape: [.fixed(1)]), Value(name: "like", elementType: .bfloat16, shape: [.fixed(0)])],
        outputs: [Value(name: "y")], initializers: InitializerTable(),
        nodes: [Node(name: "N", opType: "CastLike", inputs: ["x", "like"], outputs: ["y"], attributes: [])],
        opsetImports: [OpsetImport(domain: "", version: 21)])
    let result = try Interpreter(graph: graph, precision: .float32).run(["x": try f32([value], [1]), "like": try f32([], [0])])
    #expect(try #require(result["y"]).floats == [0.478515625])
}

@Test func detByPivotedLU() throws {
    // 2 × 2 and 3 × 3 against the cofactor formulas (exact on these small integers), batched.
    let matrices: [[Double]] = [[1, 2, 3, 4], [0, 1, 1, 0], [2, 0, 0, 3], [5, 5, 5, 5]]
    let expected2 = matrices.map { $0[0] * $0[3] - $0[1] * $0[2] }
    try expectBothPrecisions("Det", inputs: [("x", matrices.flatMap { $0 }, [2, 2, 2, 2])], expected: expected2, shape: [2, 2],
                             float32Tolerance: 1e-6)
    let m: [Double] = [2, -1, 0, -1, 2, -1, 0, -1, 2, 0, 2, 1, 1, 0, 3, 4, 1, 0]
    func det3(_ a: ArraySlice<Double>) -> Double {
        let a = Array(a)
        return a[0] * (a[4] * a[8] - a[5] * a[7]) - a[1] * (a[3] * a[8] - a[5] * a[6]) + a[2] * (a[3] * a[7] - a[4] * a[6])
    }
    try expectBothPrecisions("Det", inputs: [("x", m, [2, 3, 3])], expected: [det3(m[0..<9]), det3(m[9..<18])], shape: [2],
                             float32Tolerance: 1e-6)
    // ONNX Runtime's float32 value for [[1, 2], [3, 4]]: pivot 3, then 2 − (1/3)·4.
    #expect(try runSingle("Det", inputs: [("x", try f32([1, 2, 3, 4], [2, 2]))]).floats == [-1.9999999])
    let nan = try runSingle("Det", inputs: [("x", try f32([.nan, 1, 1, 1], [2, 2]))])
    #expect(nan.floats[0].isNaN)
    expectInterpreterError("invalid-node") { _ = try runSingle("Det", inputs: [("x", try f32([1, 2, 3, 4, 5, 6], [2, 3]))]) }
}

/// Tiling an empty axis any number of times is empty, even when the repeat count of the other
/// axes times the huge one overflows (found by the attribute fuzzer: a trap in the copy's size).
@Test func tileOfAnEmptyTensorWithHugeRepeats() throws {
    let empty = try f32([], [1024, 0])
    let out = try runSingle("Tile", inputs: [("x", empty)], constants: [("repeats", try i64([1024, 1 << 62]))], opset: 13)
    #expect(out.shape == [1 << 20, 0])
    #expect(out.elementCount == 0)
}
