import GhostIR
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

/// Runs one Conv of x [1, channels, height, width] with the constant weight w [outputs,
/// channels / groups, kernel…] and bias in T's precision (values given as Double, rounded to T).
func runConvolution<T: InterpreterScalar>(
    _ type: T.Type, x: [Double], w: [Double], bias: [Double], channels: Int, height: Int, width: Int, outputs: Int,
    groups: Int, kernel: [Int], dilations: [Int], pads: [Int], strides: [Int]
) throws -> Tensor {
    let precision: Precision = T.self == Float.self ? .float32 : .float64
    func tensor(_ values: [Double], _ shape: [Int]) throws -> Tensor {
        T.self == Float.self ? try f32(values.map { Float($0) }, shape) : try f64(values, shape)
    }
    let attributes = [attribute("group", Int64(groups)), attribute("dilations", dilations.map(Int64.init)),
                      attribute("pads", pads.map(Int64.init)), attribute("strides", strides.map(Int64.init))]
    return try runSingle("Conv", inputs: [("X", try tensor(x, [1, channels, height, width]))],
                         constants: [("W", try tensor(w, [outputs, channels / groups] + kernel)), ("B", try tensor(bias, [outputs]))],
                         attributes: attributes, precision: precision)
}
