@testable import GhostInterpreter

/// The k-ordered FMA chain a 2-D convolution's output must equal bit for bit: per output, from
/// +0 over (input channel of the group, ky, kx), every tap including those over padding (a
/// padding zero times w, which is NaN for w = ±∞ or NaN), then + bias. x is [channels, height,
/// width], w [outputs, channels / groups, kh, kw]; the result [outputs, oh, ow].
func convolutionChain<T: InterpreterScalar>(
    x: [T], w: [T], bias: [T], channels: Int, height: Int, width: Int, outputs: Int, groups: Int,
    kernel: [Int], dilations: [Int], pads: [Int], strides: [Int], outputHeight oh: Int, outputWidth ow: Int
) -> [T] {
    let perGroup = channels / groups, outPerGroup = outputs / groups
    var result = [T](repeating: 0, count: outputs * oh * ow)
    for o in 0..<outputs {
        let group = o / outPerGroup
        for oy in 0..<oh {
            for ox in 0..<ow {
                var chain: T = 0
                for c in 0..<perGroup {
                    for ky in 0..<kernel[0] {
                        for kx in 0..<kernel[1] {
                            let iy = oy * strides[0] - pads[0] + ky * dilations[0], ix = ox * strides[1] - pads[1] + kx * dilations[1]
                            let inside = iy >= 0 && iy < height && ix >= 0 && ix < width
                            let xv = inside ? x[((group * perGroup + c) * height + iy) * width + ix] : 0
                            chain = chain.addingProduct(w[((o * perGroup + c) * kernel[0] + ky) * kernel[1] + kx], xv)
                        }
                    }
                }
                result[(o * oh + oy) * ow + ox] = chain + bias[o]
            }
        }
    }
    return result
}
