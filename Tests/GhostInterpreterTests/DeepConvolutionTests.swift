import CKernels
import GhostIR
import TestSupport
@testable import GhostInterpreter
import Foundation
import Testing

// The deep products of the segmentation heads: the float32 GEMM blocked over k with B copied in
// chunks (k > 1024, or ≥ 64 rows over B rows 4 KB apart), and convolutions whose dilation puts whole kernel
// taps in the padding (DeepLabV3's ASPP), which leave those taps out.

/// C = packed(A)·B by the float32 kernel, B and C in row strides wider than the matrices (B's
/// padding is NaN, which must never be read); B's row stride `ldb` (default n + 5).
private func deepProduct(_ a: [Float], _ b: [Float], m: Int, k: Int, n: Int, ldb: Int? = nil) -> [Float] {
    var packed = [Float](repeating: .nan, count: gk_gemm_packed_count(Int32(m), Int32(k)))
    a.withUnsafeBufferPointer { ap in packed.withUnsafeMutableBufferPointer { Float.packA(ap.baseAddress!, lda: k, m: m, k: k, into: $0.baseAddress!) } }
    let (ldb, ldc) = (ldb ?? n + 5, n + 3)
    var paddedB = [Float](repeating: .nan, count: k * ldb)
    for row in 0..<k { for column in 0..<n { paddedB[row * ldb + column] = b[row * n + column] } }
    var c = [Float](repeating: -777, count: m * ldc)
    packed.withUnsafeBufferPointer { pp in
        paddedB.withUnsafeBufferPointer { bp in
            c.withUnsafeMutableBufferPointer { cp in
                Float.packedProduct(pp.baseAddress!, m: m, k: k, bp.baseAddress!, ldb: ldb, n: n, into: cp.baseAddress!, ldc: ldc)
            }
        }
    }
    for row in 0..<m { for column in n..<ldc where c[row * ldc + column] != -777 { return [] } }  // wrote past a row
    return (0..<(m * n)).map { c[($0 / n) * ldc + $0 % n] }
}

/// Shapes copied because k > 1024 (1100 = 9 blocks of 123 less the last, DeepLab's 960·9 cut to
/// keep the test short; 1030; 66×8000, whose A of 2 MB takes chunks of 96 columns) or because
/// B's rows are 4 KB or 8 KB apart with ≥ 64 rows (257 = 3 blocks, 129 = 2 blocks of 65, a
/// shallow 40), with chunk tails (n not a multiple of 48 or 96: 101, 197, 150) and partial panels
/// (m not a multiple of 8); and shapes read in place (k ≤ 1024 with no 4 KB stride, fewer than 64
/// rows, or fewer than 96 columns at k ≤ 1024), whose bits must be the same.
private let deepShapes: [(m: Int, k: Int, n: Int, ldb: Int?)] = [
    (13, 1100, 101, nil), (9, 1030, 150, nil), (66, 8000, 101, nil), (70, 257, 101, 1024), (65, 129, 96, 2048), (64, 40, 197, 1024),
    (40, 129, 150, nil), (9, 1100, 48, nil), (63, 257, 101, 1024), (3, 200, 1, nil), (96, 40, 197, nil), (64, 960, 97, nil),
    // One chunk wide with k > 1024 (TapRegions' 64-column regions), copied at ldb > n and read as
    // the chunk itself at ldb = n; a 96-column chunk of an A over 2 MB at ldb = n.
    (21, 1100, 60, nil), (21, 1100, 60, 60), (9, 1030, 47, nil), (66, 8000, 96, 96),
]

@Test(.enabled(if: gk_gemm_best_isa() >= 1, "no packed kernel on this CPU (needs AVX2+FMA): the interpreter uses BLAS"))
func deepPackedGEMMKeepsTheKOrderedChainAcrossBlocks() throws {
    var random = SeededRandom(seed: 1313)
    for (m, k, n, ldb) in deepShapes {
        let a = random.values(m * k).map(Float.init), b = random.values(k * n).map(Float.init)
        let c = deepProduct(a, b, m: m, k: k, n: n, ldb: ldb)
        try #require(c.count == m * n, "\(m)×\(k)×\(n) wrote past the rows' ends")
        var mismatches = 0
        for i in 0..<m {
            for j in 0..<n {
                var chain: Float = 0
                for p in 0..<k { chain = chain.addingProduct(a[i * k + p], b[p * n + j]) }
                if c[i * n + j].bitPattern != chain.bitPattern { mismatches += 1 }
            }
        }
        #expect(mismatches == 0, "\(m)×\(k)×\(n): \(mismatches) elements differ from the k-ordered FMA chain")
    }
}

/// NaN and ±∞ in a late block (past the first blocks of 123 terms) still reach exactly their
/// elements, in whole strips and in the column kernel's tail (n = 101 = 4·24 + 5).
@Test(.enabled(if: gk_gemm_best_isa() >= 1, "no packed kernel on this CPU (needs AVX2+FMA): the interpreter uses BLAS"))
func deepPackedGEMMCarriesNaNAndInfinityAcrossBlocks() throws {
    let (m, k, n) = (10, 1100, 101)
    var random = SeededRandom(seed: 1314)
    var a = random.values(m * k).map(Float.init), b = random.values(k * n).map(Float.init)
    a[3 * k + 350] = .infinity   // row 3, a term in the third block
    b[350 * n + 50] = 0          // meets it in column 50: ∞·0
    a[7 * k + 200] = .nan        // row 7, second block
    b[1090 * n + 2] = -.infinity // column 2, last block
    b[1090 * n + 99] = .nan      // column 99 (the tail), last block
    let c = deepProduct(a, b, m: m, k: k, n: n)
    try #require(c.count == m * n)
    #expect(c[3 * n + 50].isNaN && c[3 * n + 10].isInfinite)  // ±∞ by the sign of b[350][10]
    #expect((0..<n).allSatisfy { c[7 * n + $0].isNaN })
    #expect(c[0 * n + 2].isInfinite && c[5 * n + 2].isInfinite)
    #expect(c[0 * n + 3].isFinite)
    #expect((0..<m).allSatisfy { c[$0 * n + 99].isNaN } && c[0 * n + 98].isFinite)
}

/// The taps that read some input: with dilation 36 over a 32² map padded by 36 (DeepLabV3's
/// third ASPP branch) only the centre of the 3×3; with dilation 24 all nine, each for a band.
@Test func liveTapsOfTheASPPBranches() throws {
    func geometry(_ dilation: Int, height: Int = 32, width: Int = 32) -> Convolution.Geometry {
        var g = Convolution.Geometry()
        (g.height, g.width, g.kernelHeight, g.kernelWidth) = (height, width, 3, 3)
        (g.dilations, g.pads, g.outputHeight, g.outputWidth) = ([dilation, dilation], [dilation, dilation, dilation, dilation], height, width)
        return g
    }
    #expect(Convolution.liveTaps(geometry(36)) == [false, false, false, false, true, false, false, false, false])
    #expect(Convolution.liveTaps(geometry(24)) == [Bool](repeating: true, count: 9))
    #expect(Convolution.liveTaps(geometry(12)) == [Bool](repeating: true, count: 9))
    // A map 32 high and 8 wide: dilation 12 reaches past the width only.
    #expect(Convolution.liveTaps(geometry(12, width: 8)) == [false, true, false, false, true, false, false, true, false])
}

/// Runs a Conv with constant (packed) weights and bias in T's precision and checks every output
/// bit for bit against the k-ordered FMA chain over (input channel, ky, kx) of the taps inside
/// the image, plus the bias: leaving out a tap that reads only padding must change nothing.
private func checkDilatedConvolution<T: InterpreterScalar>(
    _ type: T.Type, channels: Int, height: Int, width: Int, outputs: Int, groups: Int,
    dilations: [Int], pads: [Int], strides: [Int] = [1, 1], weightOverride: ((inout [Double]) -> Void)? = nil
) throws -> [Double] {
    let perGroup = channels / groups
    var random = SeededRandom(seed: UInt64(channels * 1000 + dilations[0] * 10 + dilations[1]))
    let x = random.values(channels * height * width)
    var w = random.values(outputs * perGroup * 9)
    weightOverride?(&w)
    let bias = random.values(outputs)
    let y = try runConvolution(T.self, x: x, w: w, bias: bias, channels: channels, height: height, width: width, outputs: outputs,
                               groups: groups, kernel: [3, 3], dilations: dilations, pads: pads, strides: strides)
    let oh = (height + pads[0] + pads[2] - 2 * dilations[0] - 1) / strides[0] + 1
    let ow = (width + pads[1] + pads[3] - 2 * dilations[1] - 1) / strides[1] + 1
    #expect(y.shape == [1, outputs, oh, ow])
    let got = y.doubleValues()
    let reference = convolutionChain(x: x.map { T($0) }, w: w.map { T($0) }, bias: bias.map { T($0) }, channels: channels,
                                     height: height, width: width, outputs: outputs, groups: groups, kernel: [3, 3],
                                     dilations: dilations, pads: pads, strides: strides, outputHeight: oh, outputWidth: ow)
    var mismatches = 0
    for (expected, got) in zip(reference, got) {
        let value = T(got)
        if !(value == expected || (value.isNaN && expected.isNaN)) { mismatches += 1 }
    }
    #expect(mismatches == 0, "\(T.self) dilations \(dilations) groups \(groups): \(mismatches) outputs differ")
    return got
}

@Test(.enabled(if: gk_gemm_best_isa() >= 1, "no packed kernel on this CPU (needs AVX2+FMA): the interpreter uses BLAS"),
      arguments: [[2, 2], [12, 12], [12, 2], [36, 36]])
func dilatedConvolutionMatchesTheReferenceLoop(dilations: [Int]) throws {
    let pads = [dilations[0], dilations[1], dilations[0], dilations[1]]
    for groups in [1, 2] {
        // 5×7 maps: dilation 12 or 36 leaves only the centre row and column of taps in range.
        _ = try checkDilatedConvolution(Float.self, channels: 6, height: 5, width: 7, outputs: 10, groups: groups, dilations: dilations, pads: pads)
        _ = try checkDilatedConvolution(Double.self, channels: 6, height: 5, width: 7, outputs: 10, groups: groups, dilations: dilations, pads: pads)
    }
    // Deep enough for the blocked GEMM (k = 40·9 = 360, or 40 with only the centre tap), odd map, stride 2.
    _ = try checkDilatedConvolution(Float.self, channels: 40, height: 13, width: 11, outputs: 17, groups: 1,
                                    dilations: dilations, pads: pads, strides: [2, 1])
}

/// An infinite weight on a tap that reads only padding still makes its output channel NaN
/// (∞·0, as ONNX Runtime's im2col gives): the taps are kept when a weight is not finite.
@Test(.enabled(if: gk_gemm_best_isa() >= 1, "no packed kernel on this CPU (needs AVX2+FMA): the interpreter uses BLAS"))
func infiniteWeightOnAPaddingTapStillGivesNaN() throws {
    let (outputs, height, width) = (4, 5, 7)
    func run<T: InterpreterScalar>(_ type: T.Type) throws -> [Double] {
        try checkDilatedConvolution(type, channels: 3, height: height, width: width, outputs: outputs, groups: 1,
                                    dilations: [12, 12], pads: [12, 12, 12, 12]) { w in
            w[(1 * 3 + 2) * 9 + 0] = .infinity  // output 1, input channel 2, tap (0, 0): always in the padding
        }
    }
    for got in [try run(Float.self), try run(Double.self)] {
        let plane = height * width
        #expect(got[plane..<(2 * plane)].allSatisfy { $0.isNaN })
        #expect(got[0..<plane].allSatisfy { $0.isFinite } && got[(2 * plane)...].allSatisfy { $0.isFinite })
    }
}
