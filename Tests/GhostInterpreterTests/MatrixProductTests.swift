import GhostInterpreter
import GhostIR
import Testing
import TestSupport

/// C-order matrix product of [m × k] and [k × n], in Double.
private func multiply(_ a: [Double], _ b: [Double], m: Int, k: Int, n: Int) -> [Double] {
    var out = [Double](repeating: 0, count: m * n)
    for i in 0..<m { for j in 0..<n { for p in 0..<k { out[i * n + j] += a[i * k + p] * b[p * n + j] } } }
    return out
}

private func transposed(_ a: [Double], rows: Int, columns: Int) -> [Double] {
    (0..<(rows * columns)).map { index in a[(index % rows) * columns + index / rows] }
}

// m = 1 (a classifier on one image) and 3; a constant B goes through the packed float32 kernel.
@Test(arguments: [(false, false, 3), (true, false, 3), (false, true, 3), (true, true, 3), (false, true, 1), (true, false, 1)])
func gemmWithTranspositionsScalesAndBroadcastBias(transA: Bool, transB: Bool, m: Int) throws {
    let (k, n) = (5 + 4 * m, 4 + 7 * m)
    var random = SeededRandom(seed: transA ? 1 : 2)
    let a = random.values(m * k), b = random.values(k * n), c = random.values(n)
    let (alpha, beta) = (Double(Float(0.75)), Double(Float(-1.5)))
    let product = multiply(a, b, m: m, k: k, n: n)
    let expected = (0..<(m * n)).map { alpha * product[$0] + beta * c[$0 % n] }
    try expectBothPrecisions(
        "Gemm", inputs: [("a", transA ? transposed(a, rows: m, columns: k) : a, transA ? [k, m] : [m, k])],
        constants: [("b", transB ? transposed(b, rows: k, columns: n) : b, transB ? [n, k] : [k, n]), ("c", c, [n])],
        attributes: [attribute("transA", transA ? 1 : 0), attribute("transB", transB ? 1 : 0),
                     floatAttribute("alpha", Float(0.75)), floatAttribute("beta", Float(-1.5))],
        expected: expected, shape: [m, n])
}

@Test func gemmByHandWithAndWithoutC() throws {
    let b = try f32([1, 2, 3, 4, 5, 6], [2, 3])  // used transposed: 3×2
    let withBias = try runSingle("Gemm", inputs: [("x", try f32([1, 1, 1], [1, 3]))], constants: [("b", b), ("c", try f32([10, 20], [2]))],
                                 attributes: [attribute("transB", 1)])
    #expect(withBias.floats == [16, 35])
    let withoutBias = try runSingle("Gemm", inputs: [("x", try f32([1, 1, 1], [1, 3]))], constants: [("b", b)], attributes: [attribute("transB", 1)])
    #expect(withoutBias.floats == [6, 15])
    expectInterpreterError("invalid-node") {
        _ = try runSingle("Gemm", inputs: [("x", try f32([1, 1, 1, 1], [1, 4]))], constants: [("b", b)])  // k 4 vs 2
    }
}

@Test(arguments: [
    ([2, 3, 4], [4, 5]), ([4], [2, 4, 3]), ([2, 1, 3, 4], [5, 4, 2]), ([3, 4], [4]), ([1, 2, 3], [4, 3, 2]),
])
func matMulBatchesAndBroadcastsLikeNumPy(aShape: [Int], bShape: [Int]) throws {
    var random = SeededRandom(seed: UInt64(aShape.reduce(1, *) + bShape.reduce(1, *)))
    let a = random.values(aShape.reduce(1, *)), b = random.values(bShape.reduce(1, *))
    // numpy: promote 1-D operands, broadcast the batch dimensions, drop the promoted axes.
    let ap = aShape.count == 1 ? [1] + aShape : aShape, bp = bShape.count == 1 ? bShape + [1] : bShape
    let (m, k, n) = (ap[ap.count - 2], ap[ap.count - 1], bp[bp.count - 1])
    let (batch, pairs) = broadcastIndexPairs(Array(ap.dropLast(2)), Array(bp.dropLast(2)))
    var expected: [Double] = []
    for (aIndex, bIndex) in pairs {
        expected += multiply(Array(a[(aIndex * m * k)..<((aIndex + 1) * m * k)]), Array(b[(bIndex * k * n)..<((bIndex + 1) * k * n)]), m: m, k: k, n: n)
    }
    var shape = batch + [m, n]
    if aShape.count == 1 { shape.remove(at: shape.count - 2) }
    if bShape.count == 1 { shape.removeLast() }
    try expectBothPrecisions("MatMul", inputs: [("a", a, aShape), ("b", b, bShape)], expected: expected, shape: shape)
}

@Test func matMulRefusesMismatchedInnerDimensions() {
    expectInterpreterError("invalid-node") {
        _ = try runSingle("MatMul", inputs: [("a", try f32([1, 2, 3], [1, 3])), ("b", try f32([1, 2], [2, 1]))])
    }
}
