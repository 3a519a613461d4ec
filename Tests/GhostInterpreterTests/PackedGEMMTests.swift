import CKernels
import GhostIR
import TestSupport
@testable import GhostInterpreter
import Foundation
import Testing

/// C = packed(A)·B by CKernels' GEMM for one shape, in T's precision, with B and C in row strides
/// wider than the matrices (padding B with NaN, which must never be read, and C with a sentinel,
/// which must never be written).
private func packedProduct<T: InterpreterScalar>(_ a: [T], _ b: [T], m: Int, k: Int, n: Int) -> (c: [T], paddingIntact: Bool) {
    var packed = [T](repeating: .nan, count: gk_gemm_packed_count(Int32(m), Int32(k)))
    a.withUnsafeBufferPointer { ap in packed.withUnsafeMutableBufferPointer { T.packA(ap.baseAddress!, lda: k, m: m, k: k, into: $0.baseAddress!) } }
    let (ldb, ldc) = (n + 3, n + 5)
    var paddedB = [T](repeating: .nan, count: k * ldb)
    for row in 0..<k { for column in 0..<n { paddedB[row * ldb + column] = b[row * n + column] } }
    var c = [T](repeating: -12345, count: m * ldc)
    packed.withUnsafeBufferPointer { pp in
        paddedB.withUnsafeBufferPointer { bp in
            c.withUnsafeMutableBufferPointer { cp in
                T.packedProduct(pp.baseAddress!, m: m, k: k, bp.baseAddress!, ldb: ldb, n: n, into: cp.baseAddress!, ldc: ldc)
            }
        }
    }
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
        // The float64 kernels, forced the same way (one switch serves both precisions).
        let a64 = random.values(m * k), b64 = random.values(k * n)
        var results64: [[Double]] = []
        for isa in [Int32(2), 1] {
            try #require(gk_gemm_force_isa(isa) == isa, "forcing kernel \(isa) gave another")
            results64.append(packedProduct(a64, b64, m: m, k: k, n: n).c)
        }
        #expect(results64[0].map(\.bitPattern) == results64[1].map(\.bitPattern), "float64 \(m)×\(k)×\(n)")
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
        let done = b.withUnsafeBufferPointer { bp in
            c.withUnsafeMutableBufferPointer { cp in
                packed.multiply(group: 0, bp.baseAddress!, ldb: n, n: n, into: cp.baseAddress!, ldc: n)
            }
        }
        #expect(done)
        #expect(!c.contains { $0.isNaN }, "threads \(threads) left elements unwritten")
        results.append(c)
    }
    #expect(results[1].map(\.bitPattern) == results[0].map(\.bitPattern))
    #expect(results[2].map(\.bitPattern) == results[0].map(\.bitPattern))
}

// MARK: float64

/// Shapes around the float64 tiles (8 rows; 24 and 12 columns, whole vectors of 8 and 4, a masked
/// vector of 4–7 on AVX-512, then single columns) and GhostNet's pointwise layers.
private let shapes64: [(m: Int, k: Int, n: Int)] = [
    (1, 1, 1), (4, 2, 3), (5, 3, 4), (8, 16, 24), (9, 5, 25), (12, 7, 12), (13, 9, 13), (3, 1, 28), (17, 33, 47),
    (16, 16, 196), (24, 72, 97), (96, 40, 49), (40, 240, 49), (7, 11, 11), (6, 4, 23), (20, 8, 7), (64, 16, 3136), (1000, 64, 1),
]

@Test(.enabled(if: gk_gemm_best_isa() >= 1, "no packed kernel on this CPU (needs AVX2+FMA): the interpreter uses BLAS"))
func packedFloat64GEMMSumsEachElementInKOrderWithFusedMultiplyAdds() throws {
    try #require(gk_gemm_available())
    var random = SeededRandom(seed: 64)
    for (m, k, n) in shapes64 {
        let a = random.values(m * k), b = random.values(k * n)
        let (c, intact) = packedProduct(a, b, m: m, k: k, n: n)
        #expect(intact, "\(m)×\(k)×\(n) wrote past the rows' ends")
        var worst = 0.0
        for i in 0..<m {
            for j in 0..<n {
                // The documented rounding, acc = fma(a, b, acc) over k = 0, 1, … from +0; and a
                // plain float64 loop (a rounded product and a rounded sum per term), which may
                // differ from it by at most about 2k units of 2⁻⁵³ of Σ|a·b|.
                var exact = 0.0, naive = 0.0, magnitude = 0.0
                for p in 0..<k {
                    exact = exact.addingProduct(a[i * k + p], b[p * n + j])
                    let term = a[i * k + p] * b[p * n + j]
                    naive += term
                    magnitude += abs(term)
                }
                #expect(c[i * n + j].bitPattern == exact.bitPattern, "\(m)×\(k)×\(n) at [\(i), \(j)]")
                worst = max(worst, abs(c[i * n + j] - naive) / max(magnitude, 1e-300))
            }
        }
        #expect(worst <= 2 * Double(k) * 0x1p-53, "\(m)×\(k)×\(n): relative difference \(worst) from the plain loop")
    }
}

/// NaN and ±∞ in either operand reach exactly the elements whose sums they enter, as IEEE
/// arithmetic says (∞·0 and ∞ − ∞ give NaN), in every tile and tail of the float64 kernels.
@Test(.enabled(if: gk_gemm_best_isa() >= 1, "no packed kernel on this CPU (needs AVX2+FMA): the interpreter uses BLAS"))
func packedFloat64GEMMPropagatesNaNAndInfinity() throws {
    var random = SeededRandom(seed: 65)
    let (m, k, n) = (11, 6, 29)  // a strip, whole vectors and single columns on both kernels
    var a = random.values(m * k), b = random.values(k * n)
    a[2 * k + 1] = .infinity       // row 2, term 1
    a[5 * k + 3] = .nan            // row 5, term 3
    b[0 * n + 26] = -.infinity     // column 26, term 0
    b[4 * n + 7] = 0               // with a row whose term 4 is infinite: ∞·0
    a[9 * k + 4] = .infinity
    b[1 * n + 13] = .infinity      // meets row 2's +∞ at term 1: +∞·+∞
    let (c, _) = packedProduct(a, b, m: m, k: k, n: n)
    for i in 0..<m {
        for j in 0..<n {
            var exact = 0.0
            for p in 0..<k { exact = exact.addingProduct(a[i * k + p], b[p * n + j]) }
            let got = c[i * n + j]
            if exact.isNaN {
                #expect(got.isNaN, "[\(i), \(j)] is \(got), expected NaN")
            } else {
                #expect(got.bitPattern == exact.bitPattern, "[\(i), \(j)] is \(got), expected \(exact)")
            }
        }
    }
    #expect(c[5 * n + 0].isNaN && c[9 * n + 7].isNaN)
    #expect(c[2 * n + 13] == .infinity && c[0 * n + 26].isInfinite)
}

@Test(.enabled(if: gk_gemm_best_isa() >= 1, "no packed kernel on this CPU (needs AVX2+FMA): the interpreter uses BLAS"),
      arguments: [(64, 256, 1031), (2051, 200, 49)])
func packedFloat64ProductSplitOverThreadsGivesTheSameBits(rows: Int, columns: Int, n: Int) throws {
    var random = SeededRandom(seed: UInt64(rows) + 1)
    let weight = random.values(rows * columns), b = random.values(columns * n)
    var results: [[Double]] = []
    for threads in [1, 2, 3] {
        let packed = try #require(PackedWeights(matrix: weight, shape: [rows, columns], transposed: true, threads: threads))
        var c = [Double](repeating: .nan, count: rows * n)
        let done = b.withUnsafeBufferPointer { bp in
            c.withUnsafeMutableBufferPointer { cp in packed.multiply(group: 0, bp.baseAddress!, ldb: n, n: n, into: cp.baseAddress!, ldc: n) }
        }
        #expect(done)
        #expect(!c.contains { $0.isNaN }, "threads \(threads) left elements unwritten")
        results.append(c)
    }
    #expect(results[1].map(\.bitPattern) == results[0].map(\.bitPattern))
    #expect(results[2].map(\.bitPattern) == results[0].map(\.bitPattern))
}

/// Weights packed in one precision refuse operands of the other (and write nothing), so a
/// mismatched plan falls back to BLAS instead of reading doubles as floats.
@Test(.enabled(if: gk_gemm_best_isa() >= 1, "no packed kernel on this CPU (needs AVX2+FMA): the interpreter uses BLAS"))
func packedWeightsTakeOnlyTheirOwnPrecision() throws {
    let packed = try #require(PackedWeights(weight: [Double](repeating: 1, count: 8 * 2 * 3 * 3), shape: [8, 2, 3, 3], groups: 1))
    #expect(packed.holds(Double.self) && !packed.holds(Float.self))
    #expect((packed.rows, packed.columns) == (8, 18))
    let b = [Float](repeating: 1, count: 18 * 5)
    var c = [Float](repeating: 7, count: 8 * 5)
    let done = b.withUnsafeBufferPointer { bp in
        c.withUnsafeMutableBufferPointer { cp in packed.multiply(group: 0, bp.baseAddress!, ldb: 5, n: 5, into: cp.baseAddress!, ldc: 5) }
    }
    #expect(!done)
    #expect(c.allSatisfy { $0 == 7 })
}

/// A Conv with constant weights in a float64 run: the plan packs them in float64 (not float32,
/// not left to BLAS), and every output is the k-ordered FMA chain over (input channel, ky, kx) of
/// the taps inside the image (padding taps add w·0 = ±0, which leaves a sum unchanged), plus the
/// bias afterwards, bit for bit; the result agrees with a plain float64 loop to rounding.
@Test(.enabled(if: gk_gemm_best_isa() >= 1, "no packed kernel on this CPU (needs AVX2+FMA): the interpreter uses BLAS"))
func float64ConvolutionMultipliesByWeightsPackedInFloat64() throws {
    let (batch, channels, height, width, outputs, groups) = (2, 6, 7, 9, 10, 2)
    let perGroup = channels / groups, outPerGroup = outputs / groups
    var random = SeededRandom(seed: 66)
    let x = random.values(batch * channels * height * width), w = random.values(outputs * perGroup * 9), bias = random.values(outputs)
    let attributes = [attribute("group", Int64(groups)), attribute("pads", [1, 1, 1, 1]), attribute("strides", [1, 2])]
    let xTensor = try f64(x, [batch, channels, height, width])
    let constants = [("W", try f64(w, [outputs, perGroup, 3, 3])), ("B", try f64(bias, [outputs]))]

    var initializers = InitializerTable()
    for (name, tensor) in constants { initializers[name] = tensor }
    let graph = Graph(inputs: [Value(name: "X", elementType: .float64, shape: [batch, channels, height, width].map(ShapeDimension.fixed))],
                      outputs: [Value(name: "out0")], initializers: initializers,
                      nodes: [Node(name: "N", opType: "Conv", inputs: ["X", "W", "B"], outputs: ["out0"], attributes: attributes)],
                      opsetImports: [OpsetImport(domain: "", version: 17)])
    let plan = try ExecutionPlan(graph: graph, precision: .float64, threads: 1)
    #expect(plan.steps.first?.prepared?.packedWeights?.holds(Double.self) == true)

    let y = try runSingle("Conv", inputs: [("X", xTensor)], constants: constants, attributes: attributes, precision: .float64)
    let (oh, ow) = (height, (width + 2 - 3) / 2 + 1)
    #expect(y.shape == [batch, outputs, oh, ow])
    let got = y.doubleValues()
    var worst = 0.0
    for n in 0..<batch {
        for o in 0..<outputs {
            let group = o / outPerGroup
            for oy in 0..<oh {
                for ox in 0..<ow {
                    var chain = 0.0, plain = 0.0, magnitude = 0.0
                    for c in 0..<perGroup {
                        for ky in 0..<3 {
                            for kx in 0..<3 {
                                let iy = oy - 1 + ky, ix = ox * 2 - 1 + kx
                                guard iy >= 0, iy < height, ix >= 0, ix < width else { continue }
                                let xv = x[((n * channels + group * perGroup + c) * height + iy) * width + ix]
                                let wv = w[((o * perGroup + c) * 3 + ky) * 3 + kx]
                                chain = chain.addingProduct(wv, xv)
                                plain += wv * xv
                                magnitude += abs(wv * xv)
                            }
                        }
                    }
                    let value = got[((n * outputs + o) * oh + oy) * ow + ox]
                    #expect(value.bitPattern == (chain + bias[o]).bitPattern, "[\(n), \(o), \(oy), \(ox)]")
                    worst = max(worst, abs(value - (plain + bias[o])) / (magnitude + abs(bias[o])))
                }
            }
        }
    }
    #expect(worst < 1e-14)
}

/// A float64 Gemm with a constant B (a classifier) goes through the float64 packed kernel:
/// Y = alpha·(A·B) + beta·C, checked against a plain float64 loop with a bound that a wrong
/// transpose, alpha or beta would exceed by many orders of magnitude.
@Test(.enabled(if: gk_gemm_best_isa() >= 1, "no packed kernel on this CPU (needs AVX2+FMA): the interpreter uses BLAS"),
      arguments: [(false, false), (true, true)])
func float64GemmWithConstantWeightsUsesThePackedKernel(transA: Bool, transB: Bool) throws {
    let (m, k, n) = (3, 37, 29)
    var random = SeededRandom(seed: transA ? 67 : 68)
    let a = random.values(m * k), b = random.values(k * n), c = random.values(n)
    let (alpha, beta) = (0.75, -1.5)
    // Stored as the attributes say: Aᵀ [k × m] when transA, Bᵀ [n × k] when transB.
    let storedA = transA ? (0..<(k * m)).map { a[($0 % m) * k + $0 / m] } : a
    let storedB = transB ? (0..<(n * k)).map { b[($0 % k) * n + $0 / k] } : b
    let attributes = [attribute("transA", Int64(transA ? 1 : 0)), attribute("transB", Int64(transB ? 1 : 0)),
                      floatAttribute("alpha", Float(alpha)), floatAttribute("beta", Float(beta))]
    let y = try runSingle("Gemm", inputs: [("A", try f64(storedA, transA ? [k, m] : [m, k]))],
                          constants: [("B", try f64(storedB, transB ? [n, k] : [k, n])), ("C", try f64(c, [n]))],
                          attributes: attributes, precision: .float64)
    let got = y.doubleValues()
    #expect(y.shape == [m, n])
    for i in 0..<m {
        for j in 0..<n {
            var sum = 0.0, magnitude = 0.0
            for p in 0..<k {
                sum += a[i * k + p] * b[p * n + j]
                magnitude += abs(a[i * k + p] * b[p * n + j])
            }
            let expected = alpha * sum + beta * c[j]
            #expect(abs(got[i * n + j] - expected) <= 1e-14 * (magnitude + abs(c[j])), "[\(i), \(j)]: \(got[i * n + j]) vs \(expected)")
        }
    }
}
