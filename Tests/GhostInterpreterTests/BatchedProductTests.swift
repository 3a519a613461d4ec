import CKernels
import GhostIR
import TestSupport
@testable import GhostInterpreter
import Testing

/// C-order batched MatMul written out: for each broadcast batch pair, every element the
/// k-ordered chain acc = fma(a, b, acc) from +0 in T (what ghost_gemm.h promises for the packed
/// kernel), so the interpreter's packed path must agree bit for bit.
private func fmaChains<T: BinaryFloatingPoint>(_ a: [T], _ b: [T], aShape: [Int], bShape: [Int]) -> (values: [T], shape: [Int]) {
    let (m, k, n) = (aShape[aShape.count - 2], aShape[aShape.count - 1], bShape[bShape.count - 1])
    let (batch, pairs) = broadcastIndexPairs(Array(aShape.dropLast(2)), Array(bShape.dropLast(2)))
    var out: [T] = []
    for (aIndex, bIndex) in pairs {
        for i in 0..<m {
            for j in 0..<n {
                var acc: T = 0
                for p in 0..<k { acc = acc.addingProduct(a[aIndex * m * k + i * k + p], b[bIndex * k * n + p * n + j]) }
                out.append(acc)
            }
        }
    }
    return (out, batch + [m, n])
}

/// Equal bits, or both NaN (the sign of a NaN is not asked for).
private func sameValues<T: BinaryFloatingPoint>(_ x: [T], _ y: [T]) -> Bool {
    x.count == y.count && zip(x, y).allSatisfy { $0.isNaN ? $1.isNaN : $0 == $1 && $0.sign == $1.sign }
}

// Odd sizes around the kernel's 8-row panels and 8/24-column vectors, the attention shapes (k = 16,
// n = 16), one weight broadcast to every batch (folded into one product of batches·m rows), A
// broadcast over a batch axis (packed once for the run), and batch axes broadcast both ways.
@Test(arguments: [
    ([13, 7], [7, 19]), ([4, 33, 16], [4, 16, 33]), ([4, 33, 40], [4, 40, 16]), ([3, 17, 9], [9, 29]),
    ([2, 1, 11, 5], [3, 5, 26]), ([9, 6], [4, 6, 10]), ([1, 2, 7, 3], [2, 1, 3, 8]), ([2, 3, 1, 12], [12, 1]),
])
func matMulPackedPathIsTheFMAChainOfEachElement(aShape: [Int], bShape: [Int]) throws {
    guard gk_gemm_available() else { return }  // BLAS then, whose order is its own
    var random = SeededRandom(seed: UInt64(aShape.reduce(7, *) + bShape.reduce(3, *)))
    let a = random.values(aShape.reduce(1, *)), b = random.values(bShape.reduce(1, *))
    let a32 = a.map { Float($0) }, b32 = b.map { Float($0) }
    let expected32 = fmaChains(a32, b32, aShape: aShape, bShape: bShape)
    let out32 = try runSingle("MatMul", inputs: [("a", try f32(a32, aShape)), ("b", try f32(b32, bShape))])
    #expect(out32.shape == expected32.shape)
    #expect(sameValues(out32.floats, expected32.values))
    let expected64 = fmaChains(a32.map { Double($0) }, b32.map { Double($0) }, aShape: aShape, bShape: bShape)
    let out64 = try runSingle("MatMul", inputs: [("a", try f32(a32, aShape)), ("b", try f32(b32, bShape))], precision: .float64)
    #expect(sameValues(out64.doubles, expected64.values))
    // Against the plain double sum too, so that a wrong chain matching a wrong reference cannot pass.
    let plain = fmaChains(a, b, aShape: aShape, bShape: bShape).values
    #expect(relativeDifference(out32.floats.map(Double.init), plain) < 1e-5)
}

// A NaN in A spoils its row, an infinity in B its column (or NaN where it meets 0 or the other
// sign), in both the folded and the per-batch products; the rest stays finite and exact.
@Test(arguments: [false, true])
func matMulPackedPathPropagatesNaNAndInfinity(batchedB: Bool) throws {
    guard gk_gemm_available() else { return }
    let (m, k, n) = (10, 6, 12)
    var random = SeededRandom(seed: 41)
    var a = random.values(2 * m * k).map { Float($0) }
    var b = random.values((batchedB ? 2 : 1) * k * n).map { Float($0) }
    a[3 * k + 2] = .nan  // batch 0, row 3
    b[4 * n + 5] = .infinity  // column 5 (of batch 0 when batched)
    a[m * k + 7 * k + 4] = 0  // batch 1, row 7 meets B's row 4 with a zero
    let aShape = [2, m, k], bShape = batchedB ? [2, k, n] : [k, n]
    let out = try runSingle("MatMul", inputs: [("a", try f32(a, aShape)), ("b", try f32(b, bShape))]).floats
    let expected = fmaChains(a, b, aShape: aShape, bShape: bShape).values
    #expect(sameValues(out, expected))
    #expect((0..<n).allSatisfy { out[3 * n + $0].isNaN })
    #expect(out[0 * n + 5].isInfinite && !out[0 * n + 4].isNaN)
    if !batchedB { #expect(out[m * n + 7 * n + 5].isNaN) }  // 0·inf in batch 1's row 7
}

@Test func matMulWithAnEmptyInnerDimensionIsZeros() throws {
    for precision in Precision.allCases {
        let out = try runSingle("MatMul", inputs: [("a", try f32([], [2, 3, 0])), ("b", try f32([], [0, 4]))], precision: precision)
        #expect(out.shape == [2, 3, 4])
        #expect((precision == .float64 ? out.doubles : out.floats.map(Double.init)) == [Double](repeating: 0, count: 24))
    }
    let empty = try runSingle("MatMul", inputs: [("a", try f32([], [0, 3])), ("b", try f32([1, 2, 3], [3, 1]))])
    #expect(empty.shape == [0, 1])
}

// At PackedWeights.parallelWork multiply-adds (here 256³ = 2²⁴) the product goes to OpenBLAS,
// which may use threads: the same numbers within float32's rounding, another summation order.
@Test func matMulFromTheParallelThresholdUpGoesThroughBLAS() throws {
    let size = 256
    #expect(!BatchedProduct.handles(work: size * size * size))
    #expect(BatchedProduct.handles(work: size * size * size - 1) == gk_gemm_available())
    var random = SeededRandom(seed: 5)
    let a = random.values(size * size), b = random.values(size * size)
    var expected = [Double](repeating: 0, count: size * size)
    for i in 0..<size { for p in 0..<size { for j in 0..<size { expected[i * size + j] += a[i * size + p] * b[p * size + j] } } }
    try expectBothPrecisions("MatMul", inputs: [("a", a, [size, size]), ("b", b, [size, size])], expected: expected, shape: [size, size])
}
