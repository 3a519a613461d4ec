/// Depthwise convolution (one input channel per group; output channel o reads input channel
/// o / multiplier) by direct loops, one output row at a time so the row stays in cache.
///
/// The common kernels of mobile networks — 3×3 and 5×5 (or mixed 3/5), and the 7×7 of FastViT,
/// undilated, column stride 1 or 2 — copy each input channel into a zero-padded scratch plane first. Every tap of every
/// output then reads inside the plane, so a kernel row is one branch-free, constant-stride loop
/// the compiler vectorizes (for square windows, all taps in one pass). Other geometries (dilated
/// windows above all) take `depthwiseDilated`'s padded plane, keeping the tap-by-tap order; only a
/// plane far larger than the image (huge pads or strides) adds one tap at a time over the output
/// columns where that tap reads inside the image.
extension Convolution {
    /// Whether the padded path takes this geometry (3×3, 5×5 or mixed, or 7×7; undilated, column
    /// stride ≤ 2).
    static func depthwiseIsPadded(_ g: Geometry) -> Bool {
        guard g.dilations == [1, 1], g.strides[1] <= 2 else { return false }
        if g.kernelHeight == 7, g.kernelWidth == 7 { return true }
        let taps: Set<Int> = [3, 5]
        return taps.contains(g.kernelHeight) && taps.contains(g.kernelWidth)
    }

    /// Whether `depthwise` assigns every output element rather than adding into it (square 3×3,
    /// 5×5 and 7×7 windows on the padded path), so the output need not start at zero.
    static func depthwiseWritesEveryOutput(_ g: Geometry) -> Bool {
        depthwiseIsPadded(g) ? g.kernelHeight == g.kernelWidth : dilatedPlane(g) != nil
    }

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func depthwise<T: InterpreterScalar>(_ x: [T], _ w: [T], _ out: inout [T], _ g: Geometry) {
        if depthwiseIsPadded(g) {
            depthwisePadded(x, w, &out, g)
        } else if let plane = dilatedPlane(g) {
            depthwiseDilated(x, w, &out, g, plane: plane)
        } else {
            depthwiseByTap(x, w, &out, g)
        }
    }

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    private static func depthwisePadded<T: InterpreterScalar>(_ x: [T], _ w: [T], _ out: inout [T], _ g: Geometry) {
        let (oh, ow) = (g.outputHeight, g.outputWidth)
        let (kh, kw) = (g.kernelHeight, g.kernelWidth)
        let (sy, sx) = (g.strides[0], g.strides[1])
        // The plane holds the rows and columns the outputs read: the image plus its padding,
        // cut where the last window ends (a window never reaches past the padded extent).
        let planeHeight = (oh - 1) * sy + kh, planeWidth = (ow - 1) * sx + kw
        // Square windows with equal strides on short rows compute the plane as one long row
        // (`wide`): a row of a 7- or 14-wide output is too short for vector loops, a plane is
        // not. Output (oy, ox) reads plane element (oy·s + ky)·planeWidth + ox·s + kx, which is
        // wide index t = oy·planeWidth + ox read at t·s + ky·planeWidth + kx — the same loop with
        // a longer count. The columns past each row's end are computed and dropped (for stride
        // 2 about half the row, so only rows under 16 outputs go this way).
        let flat = kh == kw && sy == sx && (sx == 1 || ow < 16)
        forEachPaddedPlane(x, w, &out, g, planeHeight: planeHeight, planeWidth: planeWidth, wide: flat) { output, kernel, padded, wide in
            if let wide {
                // Output (oy, ox) is wide[oy·planeWidth + ox]: the whole plane is one row of the
                // same loop, then the valid columns move out.
                let wideCount = (oh - 1) * planeWidth + ow
                let rows = (padded, padded + planeWidth, padded + 2 * planeWidth)
                switch kh {
                case 3: T.nineTaps(wide, rows, kernel, wideCount, stride: sx)
                case 5: T.taps5x5(wide, padded, rowStride: planeWidth, kernel, wideCount, stride: sx)
                default: T.taps7x7(wide, padded, rowStride: planeWidth, kernel, wideCount, stride: sx)
                }
                for oy in 0..<oh { (output + oy * ow).update(from: wide + oy * planeWidth, count: ow) }
                return
            }
            for oy in 0..<oh {
                let target = output + oy * ow
                let first = padded + oy * sy * planeWidth
                if kh == 3, kw == 3 {
                    T.nineTaps(target, (first, first + planeWidth, first + 2 * planeWidth), kernel, ow, stride: sx)
                } else if kh == 5, kw == 5 {
                    T.taps5x5(target, first, rowStride: planeWidth, kernel, ow, stride: sx)
                } else if kh == 7, kw == 7 {
                    T.taps7x7(target, first, rowStride: planeWidth, kernel, ow, stride: sx)
                } else {
                    for ky in 0..<kh {
                        T.rowTaps(target, first + ky * planeWidth, kernel + ky * kw, ow, taps: kw, stride: sx)
                    }
                }
            }
        }
    }

    /// The loop both padded paths share: for each (batch, output channel), `body(output, kernel,
    /// plane, wide)` with `plane` holding that output's input channel inside its zero padding
    /// (pads top and left, cut to planeHeight × planeWidth; loaded once per input channel, so the
    /// `multiplier` outputs of a channel reuse it) and `wide` a scratch row of
    /// (outputHeight − 1)·planeWidth + outputWidth elements when asked for. Every element of the
    /// scratch row is written by the window loop before it is read.
    @inline(__always)
    static func forEachPaddedPlane<T: InterpreterScalar>(
        _ x: [T], _ w: [T], _ out: inout [T], _ g: Geometry, planeHeight: Int, planeWidth: Int, wide: Bool,
        _ body: (_ output: UnsafeMutablePointer<T>, _ kernel: UnsafePointer<T>, _ plane: UnsafePointer<T>,
                 _ wide: UnsafeMutablePointer<T>?) -> Void
    ) {
        let (oh, ow) = (g.outputHeight, g.outputWidth)
        let kernelSize = g.kernelHeight * g.kernelWidth
        let multiplier = g.outputChannels / g.groups
        var plane = [T](repeating: 0, count: planeHeight * planeWidth)
        let (top, left) = (g.pads[0], g.pads[1])
        // Image rows and columns that land in the plane.
        let rows = max(0, min(g.height, planeHeight - top)), columns = max(0, min(g.width, planeWidth - left))
        let widePointer: UnsafeMutablePointer<T>? = wide ? .allocate(capacity: (oh - 1) * planeWidth + ow) : nil
        defer { widePointer?.deallocate() }
        x.withUnsafeBufferPointer { xp in
            w.withUnsafeBufferPointer { wp in
                out.withUnsafeMutableBufferPointer { op in
                    plane.withUnsafeMutableBufferPointer { pp in
                        guard let padded = pp.baseAddress, let xs = xp.baseAddress, let ws = wp.baseAddress,
                              let outs = op.baseAddress else { return }
                        var loaded = -1  // the input channel now in the plane
                        for n in 0..<g.batch {
                            for o in 0..<g.outputChannels {
                                let channel = n * g.inputChannels + o / multiplier
                                if channel != loaded {
                                    let image = xs + channel * g.height * g.width
                                    for r in 0..<rows {
                                        (padded + (top + r) * planeWidth + left).update(from: image + r * g.width, count: columns)
                                    }
                                    loaded = channel
                                }
                                body(outs + (n * g.outputChannels + o) * oh * ow, ws + o * kernelSize, UnsafePointer(padded), widePointer)
                            }
                        }
                    }
                }
            }
        }
    }

    /// Any geometry: each kernel tap is one multiply-add over the output columns whose input
    /// column is inside the image, skipping kernel rows that fall in the padding.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    private static func depthwiseByTap<T: InterpreterScalar>(_ x: [T], _ w: [T], _ out: inout [T], _ g: Geometry) {
        let (oh, ow) = (g.outputHeight, g.outputWidth)
        let (kh, kw) = (g.kernelHeight, g.kernelWidth)
        let (sy, sx) = (g.strides[0], g.strides[1])
        let multiplier = g.outputChannels / g.groups
        let columns = (0..<kw).map { validRange(kernelOffset: $0, g: g, axis: 1) }
        x.withUnsafeBufferPointer { xp in
            w.withUnsafeBufferPointer { wp in
                out.withUnsafeMutableBufferPointer { op in
                    for n in 0..<g.batch {
                        for o in 0..<g.outputChannels {
                            let input = xp.baseAddress! + (n * g.inputChannels + o / multiplier) * g.height * g.width
                            let output = op.baseAddress! + (n * g.outputChannels + o) * oh * ow
                            let kernel = wp.baseAddress! + o * kh * kw
                            for oy in 0..<oh {
                                let target = output + oy * ow
                                for ky in 0..<kh {
                                    let iy = oy * sy - g.pads[0] + ky * g.dilations[0]
                                    guard iy >= 0, iy < g.height else { continue }
                                    let row = input + iy * g.width
                                    for kx in 0..<kw {
                                        let (first, last) = columns[kx]
                                        guard first <= last else { continue }
                                        let weight = kernel[ky * kw + kx]
                                        let source = row + (first * sx - g.pads[1] + kx * g.dilations[1]), destination = target + first
                                        switch sx {
                                        case 1: for i in 0...(last - first) { destination[i] += weight * source[i] }
                                        case 2: for i in 0...(last - first) { destination[i] += weight * source[2 * i] }
                                        default: for i in 0...(last - first) { destination[i] += weight * source[i * sx] }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
