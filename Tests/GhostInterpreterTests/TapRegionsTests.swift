import CKernels
import GhostIR
import TestSupport
@testable import GhostInterpreter
import Testing

// Dilated convolutions cut into regions (TapRegions) whose taps all read the image, each run as
// its own product without the taps over padding.

private func geometry(height: Int, width: Int, kernel: [Int], dilations: [Int], pads: [Int], strides: [Int] = [1, 1]) -> Convolution.Geometry {
    var g = Convolution.Geometry()
    (g.height, g.width, g.kernelHeight, g.kernelWidth) = (height, width, kernel[0], kernel[1])
    (g.dilations, g.pads, g.strides) = (dilations, pads, strides)
    g.outputHeight = (height + pads[0] + pads[2] - dilations[0] * (kernel[0] - 1) - 1) / strides[0] + 1
    g.outputWidth = (width + pads[1] + pads[3] - dilations[1] * (kernel[1] - 1) - 1) / strides[1] + 1
    return g
}

/// DeepLabV3's ASPP over a 32² map: bands 12 | 8 | 12 at dilation 12 (taps {1, 2}, all, {0, 1}),
/// 8 | 16 | 8 at dilation 24 (the middle band only the centre offset), one band at 36; the share
/// of tap-positions kept is 72/96 squared, 48/96 squared and 1/9.
@Test func regionsOfTheASPPBranches() throws {
    let d12 = try #require(TapRegions(geometry(height: 32, width: 32, kernel: [3, 3], dilations: [12, 12], pads: [12, 12, 12, 12])))
    #expect(d12.regions.count == 9)
    #expect(d12.regions.map(\.rows.start) == [0, 0, 0, 12, 12, 12, 20, 20, 20])
    #expect(d12.regions[0].taps == [4, 5, 7, 8] && d12.regions[4].taps == Array(0..<9) && d12.regions[5].taps == [0, 1, 3, 4, 6, 7])
    #expect(d12.work == 0.5625)
    let d24 = try #require(TapRegions(geometry(height: 32, width: 32, kernel: [3, 3], dilations: [24, 24], pads: [24, 24, 24, 24])))
    #expect(d24.regions.map(\.taps.count) == [4, 2, 4, 2, 1, 2, 4, 2, 4])
    #expect(d24.regions.map(\.count) == [64, 128, 64, 128, 256, 128, 64, 128, 64])
    #expect(d24.work == 0.25)
    let d36 = try #require(TapRegions(geometry(height: 32, width: 32, kernel: [3, 3], dilations: [36, 36], pads: [36, 36, 36, 36])))
    #expect(d36.regions.count == 1 && d36.regions[0].taps == [4] && d36.regions[0].count == 1024)
    // An ordinary padded 3×3 keeps 94% of the work over 32², 84% over 8²: not worth the cut.
    #expect(TapRegions(geometry(height: 32, width: 32, kernel: [3, 3], dilations: [1, 1], pads: [1, 1, 1, 1])) == nil)
    #expect(TapRegions(geometry(height: 8, width: 8, kernel: [3, 3], dilations: [1, 1], pads: [1, 1, 1, 1])) == nil)  // 84%
    // Pads wider than the reach: the outer bands read no tap at all.
    let empty = try #require(TapRegions(geometry(height: 4, width: 4, kernel: [3, 3], dilations: [1, 1], pads: [5, 0, 5, 0])))
    #expect(empty.regions.first?.taps == [] && empty.regions.last?.taps == [])
}

/// A crafted geometry (a column stride of 2³³ over a one-column output, found by the attribute
/// fuzzer) stays on the general path: the gather's 32-bit strides would trap. The same border
/// with a stride of 2 is cut.
@Test func regionsRefuseFiguresTheGatherCannotHold() {
    #expect(TapRegions(geometry(height: 5, width: 5, kernel: [3, 3], dilations: [1, 1], pads: [1, 1, 1, 1], strides: [1, 1 << 33])) == nil)
    #expect(TapRegions(geometry(height: 5, width: 5, kernel: [3, 3], dilations: [1, 1], pads: [1, 1, 1, 1], strides: [1 << 31, 1])) == nil)
    #expect(TapRegions(geometry(height: 5, width: 5, kernel: [3, 3], dilations: [1, 1], pads: [1, 1, 1, 1], strides: [1, 8])) != nil)
}

/// A Conv with constant weights and bias in T's precision, checked bit for bit against the
/// k-ordered FMA chain over (input channel, ky, kx) of every tap, padding zeros included, plus
/// the bias; `special` puts NaN and ±∞ into the input.
private func checkRegions<T: InterpreterScalar>(
    _ type: T.Type, channels: Int, height: Int, width: Int, outputs: Int, groups: Int, kernel: [Int],
    dilations: [Int], pads: [Int], strides: [Int] = [1, 1], special: Bool = false, seed: UInt64
) throws {
    let g = geometry(height: height, width: width, kernel: kernel, dilations: dilations, pads: pads, strides: strides)
    try #require(TapRegions(g) != nil, "the case must take the region path")
    let perGroup = channels / groups, taps = kernel[0] * kernel[1]
    var random = SeededRandom(seed: seed)
    var x = random.values(channels * height * width)
    if special {
        x[3] = .nan
        x[height * width + width + 1] = .infinity
        x[x.count - 2] = -.infinity
    }
    let w = random.values(outputs * perGroup * taps), bias = random.values(outputs)
    let y = try runConvolution(T.self, x: x, w: w, bias: bias, channels: channels, height: height, width: width, outputs: outputs,
                               groups: groups, kernel: kernel, dilations: dilations, pads: pads, strides: strides)
    let (oh, ow) = (g.outputHeight, g.outputWidth)
    #expect(y.shape == [1, outputs, oh, ow])
    let got = y.doubleValues()
    let reference = convolutionChain(x: x.map { T($0) }, w: w.map { T($0) }, bias: bias.map { T($0) }, channels: channels,
                                     height: height, width: width, outputs: outputs, groups: groups, kernel: kernel,
                                     dilations: dilations, pads: pads, strides: strides, outputHeight: oh, outputWidth: ow)
    var mismatches = 0, nans = 0
    for (expected, got) in zip(reference, got) {
        let value = T(got)
        if expected.isNaN { nans += 1 }
        if !((value == expected && value.sign == expected.sign) || (value.isNaN && expected.isNaN)) { mismatches += 1 }
    }
    #expect(mismatches == 0, "\(T.self) kernel \(kernel) dilations \(dilations) strides \(strides) groups \(groups): \(mismatches) outputs differ")
    if special { #expect(nans > 0, "the NaN and ±∞ inputs must reach some outputs") }
}

@Test(.enabled(if: gk_gemm_best_isa() >= 1, "no packed kernel on this CPU (needs AVX2+FMA): the interpreter uses BLAS"),
      arguments: [2, 12])
func regionConvolutionMatchesTheChain(dilation: Int) throws {
    let d = [dilation, dilation]
    // At dilation 2 the maps are small enough that the border is over 30% of the work.
    let small = dilation == 2
    // An odd map, partial panels (17 outputs), two groups; then stride 2 with asymmetric pads.
    for type in [Float.self, Double.self] as [any InterpreterScalar.Type] {
        func check<T: InterpreterScalar>(_ t: T.Type) throws {
            try checkRegions(t, channels: 6, height: small ? 5 : 9, width: small ? 7 : 11, outputs: 10, groups: 2, kernel: [3, 3],
                             dilations: d, pads: [dilation, dilation, dilation, dilation], seed: 71)
            try checkRegions(t, channels: 5, height: small ? 9 : 13, width: small ? 7 : 10, outputs: 17, groups: 1, kernel: [3, 3],
                             dilations: d, pads: [dilation, dilation + 1, dilation - 1, dilation], strides: [2, 1], seed: 72)
            try checkRegions(t, channels: 4, height: 7, width: 9, outputs: 9, groups: 1, kernel: [2, 3],
                             dilations: [dilation, 1], pads: [dilation, 1, dilation, 2], strides: [1, 2], special: true, seed: 73)
        }
        try check(type)
    }
    // k = 200·taps, not a multiple of the GEMM's 128-deep blocks, with regions wide and deep
    // enough for its B chunks (n ≥ 96, k > 1024).
    try checkRegions(Float.self, channels: 200, height: small ? 4 : 14, width: small ? 100 : 24, outputs: 20, groups: 1, kernel: [3, 3],
                     dilations: [dilation / 2 + 1, dilation], pads: [dilation / 2 + 1, dilation, dilation / 2 + 1, dilation], seed: 74)
}
