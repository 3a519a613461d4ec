import CKernels
import TestSupport
@testable import GhostInterpreter
import Foundation
import Testing

/// C = packed(A)·B by CKernels' GEMM for one shape, with B and C in row strides wider than the
/// matrices (padding B with NaN, which must never be read, and C with a sentinel, which must
/// never be written).
private func packedProduct(_ a: [Float], _ b: [Float], m: Int, k: Int, n: Int) -> (c: [Float], paddingIntact: Bool) {
    var packed = [Float](repeating: .nan, count: gk_gemm_packed_count(Int32(m), Int32(k)))
    a.withUnsafeBufferPointer { gk_gemm_pack_a($0.baseAddress!, Int32(k), Int32(m), Int32(k), &packed) }
    let (ldb, ldc) = (n + 3, n + 5)
    var paddedB = [Float](repeating: .nan, count: k * ldb)
    for row in 0..<k { for column in 0..<n { paddedB[row * ldb + column] = b[row * n + column] } }
    var c = [Float](repeating: -12345, count: m * ldc)
    gk_gemm_packed(packed, Int32(m), Int32(k), paddedB, Int32(ldb), Int32(n), &c, Int32(ldc))
    var intact = true
    for row in 0..<m { for column in n..<ldc where c[row * ldc + column] != -12345 { intact = false } }
    return ((0..<(m * n)).map { c[($0 / n) * ldc + $0 % n] }, intact)
}

/// Shapes around the kernels' tiles (8 rows; 48 and 24 columns, whole vectors, then single
/// columns) and real pointwise layers.
private let shapes: [(m: Int, k: Int, n: Int)] = [
    (1, 1, 1), (7, 3, 1), (8, 16, 48), (9, 5, 49), (17, 33, 50), (3, 1, 100), (16, 16, 196), (24, 72, 97), (96, 40, 196),
    (40, 240, 49), (13, 7, 24), (5, 9, 23), (64, 16, 3136), (1000, 64, 1),
]

@Test(.enabled(if: gk_gemm_best_isa() >= 1, "no packed kernel on this CPU (needs AVX2+FMA): the interpreter uses BLAS"))
func packedGEMMSumsEachElementInKOrderWithFusedMultiplyAdds() throws {
    try #require(gk_gemm_available())
    var random = SeededRandom(seed: 99)
    for (m, k, n) in shapes {
        let a = random.values(m * k).map(Float.init), b = random.values(k * n).map(Float.init)
        let (c, intact) = packedProduct(a, b, m: m, k: k, n: n)
        #expect(intact, "\(m)×\(k)×\(n) wrote past the rows' ends")
        var worst = 0.0
        for i in 0..<m {
            for j in 0..<n {
                // The documented rounding: acc = fma(a, b, acc) over k = 0, 1, … from +0.
                var exact: Float = 0
                var reference = 0.0, magnitude = 0.0
                for p in 0..<k {
                    exact = exact.addingProduct(a[i * k + p], b[p * n + j])  // one rounding: a fused multiply-add
                    reference += Double(a[i * k + p]) * Double(b[p * n + j])
                    magnitude += abs(Double(a[i * k + p]) * Double(b[p * n + j]))
                }
                #expect(c[i * n + j].bitPattern == exact.bitPattern, "\(m)×\(k)×\(n) at [\(i), \(j)]")
                worst = max(worst, abs(Double(c[i * n + j]) - reference) / max(magnitude, 1e-30))
            }
        }
        #expect(worst < 1e-6, "\(m)×\(k)×\(n): relative error \(worst)")
    }
}

/// The kernel choice is process-wide: tests running meanwhile get either kernel, which is
/// harmless exactly because of what this test checks. Only this test forces a kernel, so the one
/// forcing reports is the one that runs. Without AVX-512 there is nothing to compare AVX2 with:
/// the test is reported as skipped rather than comparing AVX2 with itself.
@Test(.enabled(if: gk_gemm_best_isa() == 2, "this CPU has no AVX-512F kernel to compare the AVX2 kernel with"))
func avx2AndAVX512KernelsGiveTheSameBits() throws {
    defer { _ = gk_gemm_force_isa(0) }
    var random = SeededRandom(seed: 7)
    for (m, k, n) in shapes {
        let a = random.values(m * k).map(Float.init), b = random.values(k * n).map(Float.init)
        var results: [[Float]] = []
        for isa in [Int32(2), 1] {
            try #require(gk_gemm_force_isa(isa) == isa, "forcing kernel \(isa) gave another")
            results.append(packedProduct(a, b, m: m, k: k, n: n).c)
        }
        #expect(results[0].map(\.bitPattern) == results[1].map(\.bitPattern), "\(m)×\(k)×\(n)")
    }
}

/// A product split over threads (by column blocks when there are many columns, by row panels
/// when there are few) gives the same bits as one thread: each element is the same k-ordered sum.
@Test(.enabled(if: gk_gemm_best_isa() >= 1, "no packed kernel on this CPU (needs AVX2+FMA): the interpreter uses BLAS"),
      arguments: [(64, 256, 1031), (2051, 200, 49)])
func packedProductSplitOverThreadsGivesTheSameBits(rows: Int, columns: Int, n: Int) throws {
    var random = SeededRandom(seed: UInt64(rows))
    let weight = random.values(rows * columns).map(Float.init), b = random.values(columns * n).map(Float.init)
    #expect(rows * columns * n >= PackedWeights.parallelWork)  // large enough to be split
    var results: [[Float]] = []
    for threads in [1, 2, 3] {
        let packed = try #require(PackedWeights(matrix: weight, shape: [rows, columns], transposed: true, threads: threads))
        var c = [Float](repeating: .nan, count: rows * n)
        b.withUnsafeBufferPointer { bp in
            c.withUnsafeMutableBufferPointer { cp in
                packed.multiply(group: 0, bp.baseAddress!, ldb: n, n: n, into: cp.baseAddress!, ldc: n)
            }
        }
        #expect(!c.contains { $0.isNaN }, "threads \(threads) left elements unwritten")
        results.append(c)
    }
    #expect(results[1].map(\.bitPattern) == results[0].map(\.bitPattern))
    #expect(results[2].map(\.bitPattern) == results[0].map(\.bitPattern))
}
