import CKernels

/// Depthwise convolution over a zero-padded plane for the geometries the undilated fast path
/// does not take: dilated windows (the 5×5 dilation-2 depthwise of MobileNetV3's last stage in
/// LR-ASPP and DeepLabV3), any kernel size, any stride.
///
/// y[n, o, oy, ox] = 0 + Σ_{ky<kh, kx<kw} w[o, ky, kx] · P[oy·sy + ky·dy, ox·sx + kx·dx], the taps
/// added one by one in (ky, kx) order, where P is input channel o / multiplier with its padding
/// as zeros. Every tap reads inside P, so an output row is one branch-free loop over all taps
/// (`gk_dilated_taps_*`, in C and vectorized per CPU).
///
/// This is the sum the tap-by-tap loop computes, in the same order from +0, plus the taps that
/// read padding: for a finite weight such a tap adds ±0, which leaves a sum started at +0
/// unchanged (it is never −0), so the bits are the same; a ±∞ or NaN weight on a padding tap gives
/// NaN, as ONNX Runtime's im2col does (the tap-by-tap loop skipped those taps).
extension Convolution {
    /// The plane's extent (the image and its padding, cut where the last window ends), or nil
    /// when the padded path is not taken: negative pads, or a plane far larger than the image
    /// and the output plane (huge pads or strides; the tap-by-tap loop needs no plane).
    static func dilatedPlane(_ g: Geometry) -> (height: Int, width: Int)? {
        guard g.pads.allSatisfy({ $0 >= 0 }), g.outputHeight > 0, g.outputWidth > 0 else { return nil }
        func extent(_ outputs: Int, _ stride: Int, _ kernel: Int, _ dilation: Int) -> Int? {
            let (stepped, o1) = (outputs - 1).multipliedReportingOverflow(by: stride)
            let (reach, o2) = (kernel - 1).multipliedReportingOverflow(by: dilation)
            let (sum, o3) = stepped.addingReportingOverflow(reach + 1)
            return o1 || o2 || o3 ? nil : sum
        }
        guard let height = extent(g.outputHeight, g.strides[0], g.kernelHeight, g.dilations[0]),
              let width = extent(g.outputWidth, g.strides[1], g.kernelWidth, g.dilations[1]) else { return nil }
        let (area, overflow) = height.multipliedReportingOverflow(by: width)
        let budget = 4 * (g.height * g.width + g.outputHeight * g.outputWidth) + 65536
        guard !overflow, area <= budget else { return nil }
        return (height, width)
    }

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func depthwiseDilated<T: InterpreterScalar>(_ x: [T], _ w: [T], _ out: inout [T], _ g: Geometry,
                                                       plane extent: (height: Int, width: Int)) {
        let (oh, ow) = (g.outputHeight, g.outputWidth)
        let (sy, sx) = (g.strides[0], g.strides[1])
        let (planeHeight, planeWidth) = extent
        // Short rows with equal strides ≤ 2: the plane as one long row, as in `depthwisePadded`
        // (output (oy, ox) is wide index oy·planeWidth + ox, read at that index times the stride).
        let flat = sy == sx && sx <= 2 && ow < 16 && oh > 1
        forEachPaddedPlane(x, w, &out, g, planeHeight: planeHeight, planeWidth: planeWidth, wide: flat) { output, kernel, padded, wide in
            if let wide {
                dilatedTaps(wide, padded, planeWidth: planeWidth, kernel, (oh - 1) * planeWidth + ow, g)
                for oy in 0..<oh { (output + oy * ow).update(from: wide + oy * planeWidth, count: ow) }
                return
            }
            for oy in 0..<oh {
                dilatedTaps(output + oy * ow, padded + oy * sy * planeWidth, planeWidth: planeWidth, kernel, ow, g)
            }
        }
    }

    /// One output row (or a wide row) of the window sum, by the C loop of this precision.
    @inline(__always)
    private static func dilatedTaps<T: InterpreterScalar>(_ destination: UnsafeMutablePointer<T>, _ first: UnsafePointer<T>,
                                                          planeWidth: Int, _ kernel: UnsafePointer<T>, _ count: Int, _ g: Geometry) {
        let rowStride = g.dilations[0] * planeWidth, columnStep = g.dilations[1]
        if T.self == Float.self {
            gk_dilated_taps_f32(UnsafeMutableRawPointer(destination).assumingMemoryBound(to: Float.self),
                                UnsafeRawPointer(first).assumingMemoryBound(to: Float.self), rowStride, columnStep,
                                UnsafeRawPointer(kernel).assumingMemoryBound(to: Float.self), count, g.strides[1],
                                g.kernelHeight, g.kernelWidth)
        } else if T.self == Double.self {
            gk_dilated_taps_f64(UnsafeMutableRawPointer(destination).assumingMemoryBound(to: Double.self),
                                UnsafeRawPointer(first).assumingMemoryBound(to: Double.self), rowStride, columnStep,
                                UnsafeRawPointer(kernel).assumingMemoryBound(to: Double.self), count, g.strides[1],
                                g.kernelHeight, g.kernelWidth)
        }
    }
}
