/// Depthwise convolution (one input channel per group; output channel o reads input channel
/// o / multiplier) by direct loops, one output row at a time so the row stays in cache.
///
/// The common kernels of mobile networks — 3×3 and 5×5 (or mixed 3/5), undilated, column stride
/// 1 or 2 — copy each input channel into a zero-padded scratch plane first. Every tap of every
/// output then reads inside the plane, so a kernel row is one branch-free, constant-stride loop
/// the compiler vectorizes (for 3×3, all nine taps in one pass). Other geometries add one tap at
/// a time over the output columns where that tap reads inside the image.
extension Convolution {
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func depthwise<T: InterpreterScalar>(_ x: [T], _ w: [T], _ out: inout [T], _ g: Geometry) {
        let taps: Set<Int> = [3, 5]
        if g.dilations == [1, 1], taps.contains(g.kernelHeight), taps.contains(g.kernelWidth), g.strides[1] <= 2 {
            depthwisePadded(x, w, &out, g)
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
        let multiplier = g.outputChannels / g.groups
        // The plane holds the rows and columns the outputs read: the image plus its padding,
        // cut where the last window ends (a window never reaches past the padded extent).
        let planeHeight = (oh - 1) * sy + kh, planeWidth = (ow - 1) * sx + kw
        var plane = [T](repeating: 0, count: planeHeight * planeWidth)
        let (top, left) = (g.pads[0], g.pads[1])
        // Image rows and columns that land in the plane.
        let rows = max(0, min(g.height, planeHeight - top)), columns = max(0, min(g.width, planeWidth - left))
        x.withUnsafeBufferPointer { xp in
            w.withUnsafeBufferPointer { wp in
                out.withUnsafeMutableBufferPointer { op in
                    plane.withUnsafeMutableBufferPointer { pp in
                        let padded = pp.baseAddress!
                        var loaded = -1  // the input channel now in the plane
                        for n in 0..<g.batch {
                            for o in 0..<g.outputChannels {
                                let channel = n * g.inputChannels + o / multiplier
                                if channel != loaded {
                                    let image = xp.baseAddress! + channel * g.height * g.width
                                    for r in 0..<rows {
                                        (padded + (top + r) * planeWidth + left).update(from: image + r * g.width, count: columns)
                                    }
                                    loaded = channel
                                }
                                let output = op.baseAddress! + (n * g.outputChannels + o) * oh * ow
                                let kernel = wp.baseAddress! + o * kh * kw
                                for oy in 0..<oh {
                                    let target = output + oy * ow
                                    let first = padded + oy * sy * planeWidth
                                    if kh == 3, kw == 3 {
                                        let rows = (UnsafePointer(first), UnsafePointer(first + planeWidth), UnsafePointer(first + 2 * planeWidth))
                                        if sx == 1 { nineTaps(target, rows, kernel, ow, stride: 1) } else { nineTaps(target, rows, kernel, ow, stride: 2) }
                                        continue
                                    }
                                    for ky in 0..<kh {
                                        let row = UnsafePointer(first + ky * planeWidth), weights = kernel + ky * kw
                                        switch (kw, sx) {
                                        case (3, 1): rowTaps3(target, row, weights, ow, stride: 1)
                                        case (3, _): rowTaps3(target, row, weights, ow, stride: 2)
                                        case (_, 1): rowTaps5(target, row, weights, ow, stride: 1)
                                        default: rowTaps5(target, row, weights, ow, stride: 2)
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

    /// destination[i] = Σ over three rows r and three columns k of w[3r + k] · row_r[i·stride + k].
    @inline(__always)
    private static func nineTaps<T: InterpreterScalar>(
        _ destination: UnsafeMutablePointer<T>, _ rows: (UnsafePointer<T>, UnsafePointer<T>, UnsafePointer<T>),
        _ w: UnsafePointer<T>, _ count: Int, stride: Int
    ) {
        let (a, b, c) = rows
        let (w0, w1, w2, w3, w4, w5, w6, w7, w8) = (w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7], w[8])
        for i in 0..<count {
            let j = i * stride
            var sum = w0 * a[j] + w1 * a[j + 1] + w2 * a[j + 2]
            sum += w3 * b[j] + w4 * b[j + 1] + w5 * b[j + 2]
            sum += w6 * c[j] + w7 * c[j + 1] + w8 * c[j + 2]
            destination[i] = sum
        }
    }

    /// destination[i] += Σ_k w[k] · row[i·stride + k], k < 3.
    @inline(__always)
    private static func rowTaps3<T: InterpreterScalar>(
        _ destination: UnsafeMutablePointer<T>, _ row: UnsafePointer<T>, _ w: UnsafePointer<T>, _ count: Int, stride: Int
    ) {
        let (w0, w1, w2) = (w[0], w[1], w[2])
        for i in 0..<count {
            let j = i * stride
            destination[i] += w0 * row[j] + w1 * row[j + 1] + w2 * row[j + 2]
        }
    }

    /// destination[i] += Σ_k w[k] · row[i·stride + k], k < 5.
    @inline(__always)
    private static func rowTaps5<T: InterpreterScalar>(
        _ destination: UnsafeMutablePointer<T>, _ row: UnsafePointer<T>, _ w: UnsafePointer<T>, _ count: Int, stride: Int
    ) {
        let (w0, w1, w2, w3, w4) = (w[0], w[1], w[2], w[3], w[4])
        for i in 0..<count {
            let j = i * stride
            destination[i] += w0 * row[j] + w1 * row[j + 1] + w2 * row[j + 2] + w3 * row[j + 3] + w4 * row[j + 4]
        }
    }
}
