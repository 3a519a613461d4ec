import CKernels

/// 3×3 convolutions (stride 1 or 2, no dilation, one group) of few input channels in float32,
/// computed directly (CKernels' `gk_conv3x3_f32`) instead of by im2col and the packed GEMM.
///
/// y[m][oy][ox] = Σ_(c, ky, kx) w[m][c][ky][kx] · x[c][oy·s − pad_top + ky][ox·s − pad_left + kx],
/// x = 0 outside the image, summed from +0 in the GEMM's k order (c, ky, kx) with fused
/// multiply-adds: the packed GEMM's own operations on im2col's columns, padding zeros included,
/// so the bits are the same and only the nine-fold copy of the input is gone. Taken only where
/// that GEMM would run (its packed weights in float32, one thread), so no other path's bits change.
enum DirectConvolution {
    /// Above this many input channels im2col is a small part of the work and the GEMM's wider
    /// tiles win.
    static let maximumInputChannels = 64

    static func applies(_ g: Convolution.Geometry, packed: PackedWeights?) -> Bool {
        guard let packed, packed.holds(Float.self), packed.threads == 1 else { return false }
        return g.groups == 1 && g.kernelHeight == 3 && g.kernelWidth == 3 && g.dilations == [1, 1]
            && (g.strides == [1, 1] || g.strides == [2, 2]) && g.inputChannels <= maximumInputChannels
            && g.outputHeight >= 1 && g.outputWidth >= 1 && g.height >= 1 && g.width >= 1
    }

    /// Writes every element of `out` (batch × M × OH × OW) and returns true, or returns false with
    /// `out` untouched when the path does not apply (the caller then runs the GEMM).
    static func run<T: InterpreterScalar>(_ x: [T], _ w: [T], _ out: inout [T], _ g: Convolution.Geometry,
                                          packed: PackedWeights?) -> Bool {
        guard T.self == Float.self, applies(g, packed: packed) else { return false }
        let stride = g.strides[0]
        // The scratch holds (OH − 1)·s + 3 rows per channel of about OW·s + 9 floats: checked,
        // though the output and input sizes it derives from are already bounded.
        let (rows, o1) = (g.outputHeight - 1).multipliedReportingOverflow(by: stride)
        let (width, o2) = (g.outputWidth + 8).multipliedReportingOverflow(by: 2)
        let (area, o3) = (rows + 3).multipliedReportingOverflow(by: width)
        let (_, o4) = area.multipliedReportingOverflow(by: g.inputChannels)
        guard !o1, !o2, !o3, !o4 else { return false }
        let count = gk_conv3x3_scratch_count(g.inputChannels, g.outputHeight, g.outputWidth, stride)
        let imageSize = g.inputChannels * g.height * g.width, outputSize = g.outputChannels * g.outputHeight * g.outputWidth
        // With ordinary pads the padded rows are the image plus a border. Pads far wider than the
        // image would make them many times larger than anything the node holds: not this path.
        guard count <= 2 * imageSize + (1 << 20) else { return false }
        var scratch = [Float](filling: count) { _ in }
        var done = true
        x.withUnsafeBufferPointer { xp in
            w.withUnsafeBufferPointer { wp in
                out.withUnsafeMutableBufferPointer { op in
                    scratch.withUnsafeMutableBufferPointer { sp in
                        let input = UnsafeRawPointer(xp.baseAddress!).assumingMemoryBound(to: Float.self)
                        let weights = UnsafeRawPointer(wp.baseAddress!).assumingMemoryBound(to: Float.self)
                        let output = UnsafeMutableRawPointer(op.baseAddress!).assumingMemoryBound(to: Float.self)
                        for n in 0..<g.batch where done {
                            done = gk_conv3x3_f32(input + n * imageSize, g.inputChannels, g.height, g.width, weights,
                                                  g.outputChannels, output + n * outputSize, g.outputHeight, g.outputWidth,
                                                  stride, g.pads[0], g.pads[1], sp.baseAddress!)
                        }
                    }
                }
            }
        }
        // The kernel declines only when the CPU lacks it, which it does on the first image.
        return done
    }
}
