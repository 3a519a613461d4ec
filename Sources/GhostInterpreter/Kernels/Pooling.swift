/// GlobalAveragePool and GlobalMaxPool (any spatial rank); AveragePool and MaxPool over NCW or NCHW.
enum Pooling {
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func global<T: InterpreterScalar>(_ x: [T], shape: [Int], maximum: Bool) -> [T] {
        let channels = shape[0] * shape[1], plane = shape.dropFirst(2).reduce(1, *)
        guard plane > 0 else { return [T](repeating: maximum ? 0 : .nan, count: channels) }
        if !maximum { return Reduction.blockMeans(x, block: plane) }
        return (0..<channels).map { c in
            var best = T.nan
            for v in x[(c * plane)..<((c + 1) * plane)] { best = larger(best, v) }
            return best
        }
    }

    static func evaluateGlobal(_ context: NodeContext, maximum: Bool) throws(InterpreterError) -> Buffer {
        let x = try context.input(0)
        guard x.shape.count >= 3 else { throw context.fail("input must be N×C×spatial, got \(x.shape)") }
        let shape = Array(x.shape[0..<2]) + [Int](repeating: 1, count: x.shape.count - 2)
        switch x.storage {
        case .float(let v): return Buffer(shape: shape, storage: .float(global(v, shape: x.shape, maximum: maximum)))
        case .double(let v): return Buffer(shape: shape, storage: .double(global(v, shape: x.shape, maximum: maximum)))
        default: throw context.fail("expects floating-point input")
        }
    }

    struct Window {
        var kernel: [Int], strides: [Int], pads: [Int], dilations: [Int], output: [Int]
    }

    static func window(_ context: NodeContext, sizes: [Int], lifted: Bool) throws(InterpreterError) -> Window {
        let rank = sizes.count
        guard let kernel = try Convolution.spatial(context, "kernel_shape", lifted: lifted, neutral: 1), kernel.count == rank else {
            throw context.fail("kernel_shape is missing or of the wrong rank")
        }
        let strides = try Convolution.spatial(context, "strides", lifted: lifted, neutral: 1) ?? [Int](repeating: 1, count: rank)
        let dilations = try Convolution.spatial(context, "dilations", lifted: lifted, neutral: 1) ?? [Int](repeating: 1, count: rank)
        var pads = try Convolution.spatial(context, "pads", lifted: lifted, neutral: 0) ?? [Int](repeating: 0, count: 2 * rank)
        guard strides.count == rank, dilations.count == rank, pads.count == 2 * rank,
              kernel.allSatisfy({ $0 >= 1 }), strides.allSatisfy({ $0 >= 1 }), dilations.allSatisfy({ $0 >= 1 }),
              pads.allSatisfy({ $0 >= 0 }) else {
            throw context.fail("kernel_shape \(kernel), strides \(strides), dilations \(dilations) or pads \(pads) are invalid")
        }
        pads = try Convolution.resolvedPads(context, sizes: sizes, kernel: kernel, strides: strides, dilations: dilations, pads: pads)
        // A pad as wide as the dilated kernel would make windows of padding alone (ONNX Runtime
        // refuses pads as large as the undilated kernel).
        for axis in 0..<rank {
            let reach = try context.product(kernel[axis], dilations[axis])
            if pads[axis] >= reach || pads[axis + rank] >= reach {
                throw context.fail("pads \(pads) are not smaller than the (dilated) kernel \(kernel)")
            }
        }
        let ceil = try context.int("ceil_mode", 0) != 0
        var output: [Int] = []
        for axis in 0..<rank {
            let reach = try context.product(dilations[axis], kernel[axis] - 1)
            let span = try context.sum(sizes[axis], pads[axis], pads[axis + rank], -reach, -1)
            guard span >= 0 else { throw context.fail("the window does not fit the padded input") }
            var count = (ceil ? try context.sum(span, strides[axis], -1) / strides[axis] : span / strides[axis]) + 1
            // With ceil_mode, a last window that would start past the end padding is dropped.
            if ceil, try context.product(count - 1, strides[axis]) >= (try context.sum(sizes[axis], pads[axis])) { count -= 1 }
            output.append(count)
        }
        return Window(kernel: kernel, strides: strides, pads: pads, dilations: dilations, output: output)
    }

    static func evaluateWindowed(_ context: NodeContext, maximum: Bool) throws(InterpreterError) -> Buffer {
        let x = try context.input(0)
        guard x.shape.count == 4 || x.shape.count == 3 else {
            throw context.unsupported("input rank", "\(x.shape.count) (1-D and 2-D pooling run)")
        }
        // 1-D pooling is 2-D pooling over a single row.
        let lift = x.shape.count == 3
        let full = lift ? [x.shape[0], x.shape[1], 1, x.shape[2]] : x.shape
        let w = try window(context, sizes: [full[2], full[3]], lifted: lift)
        let countPadding = try context.int("count_include_pad", 0) != 0
        let shape = lift ? [x.shape[0], x.shape[1], w.output[1]] : [x.shape[0], x.shape[1]] + w.output
        _ = try context.elementCount(of: [x.shape[0], x.shape[1]] + w.output)
        switch x.storage {
        case .float(let v): return Buffer(shape: shape, storage: .float(pool(v, full, w, maximum, countPadding)))
        case .double(let v): return Buffer(shape: shape, storage: .double(pool(v, full, w, maximum, countPadding)))
        default: throw context.fail("expects floating-point input, got \(x.typeName)")
        }
    }

    /// For each output position along one axis: the kernel offsets whose input index lies in the
    /// image (`first..<end`) and how many lie in the image or its explicit padding. Computed from
    /// the bounds, not tap by tap, so a kernel of 2⁶² (with pads to match) costs nothing.
    private static func windowRanges(size: Int, output: Int, kernel: Int, stride: Int, dilation: Int,
                                     padBefore: Int, padAfter: Int) -> [(first: Int, end: Int, padded: Int)] {
        /// The offsets k in 0..<kernel with low ≤ base + k·dilation < high.
        func offsets(base: Int, low: Int, high: Int) -> Range<Int> {
            let first = max(0, ceilingDivision(low - base, dilation))
            let end = min(kernel, max(0, ceilingDivision(high - base, dilation)))
            return first..<max(first, end)
        }
        // The window checks bound every term by size + pads, whose sum does not overflow.
        return (0..<output).map { o in
            let base = o * stride - padBefore
            let image = offsets(base: base, low: 0, high: size)
            // count_include_pad counts positions in the explicit padding, not past it.
            let padded = offsets(base: base, low: -padBefore, high: size + padAfter)
            return image.isEmpty ? (kernel, kernel, padded.count) : (image.lowerBound, image.upperBound, padded.count)
        }
    }

    /// ⌈a / b⌉ for b > 0, without forming a + b (which overflows for a dilation near Int64.max).
    private static func ceilingDivision(_ a: Int, _ b: Int) -> Int {
        a > 0 ? (a - 1) / b + 1 : -((-a) / b)
    }

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    private static func pool<T: InterpreterScalar>(_ x: [T], _ shape: [Int], _ w: Window, _ maximum: Bool, _ countPadding: Bool) -> [T] {
        // The padded plane spans the windows; with strides no larger than the kernel that is the
        // padded input, never more.
        if w.dilations == [1, 1], w.strides[0] <= w.kernel[0], w.strides[1] <= w.kernel[1], paddedPlaneIsSmall(shape, w) {
            return maximum ? maxPoolPadded(x, shape, w) : averagePoolPadded(x, shape, w, countPadding)
        }
        let (h, wd) = (shape[2], shape[3]), (oh, ow) = (w.output[0], w.output[1])
        let rows = windowRanges(size: h, output: oh, kernel: w.kernel[0], stride: w.strides[0], dilation: w.dilations[0],
                                padBefore: w.pads[0], padAfter: w.pads[2])
        let columns = windowRanges(size: wd, output: ow, kernel: w.kernel[1], stride: w.strides[1], dilation: w.dilations[1],
                                   padBefore: w.pads[1], padAfter: w.pads[3])
        let (sy, sx, dy, dx, py, px) = (w.strides[0], w.strides[1], w.dilations[0], w.dilations[1], w.pads[0], w.pads[1])
        var out = [T](repeating: 0, count: shape[0] * shape[1] * oh * ow)
        x.withUnsafeBufferPointer { xp in
            out.withUnsafeMutableBufferPointer { op in
                for c in 0..<(shape[0] * shape[1]) {
                    let plane = xp.baseAddress! + c * h * wd
                    for oy in 0..<oh {
                        let row = rows[oy]
                        let target = op.baseAddress! + (c * oh + oy) * ow
                        // Every in-image position of the window, rows then columns, as ONNX lists them.
                        if maximum {
                            for ox in 0..<ow {
                                let column = columns[ox]
                                var best = T.nan
                                for ky in row.first..<row.end {
                                    let line = plane + (oy * sy - py + ky * dy) * wd + (ox * sx - px)
                                    for kx in column.first..<column.end { best = larger(best, line[kx * dx]) }
                                }
                                target[ox] = best
                            }
                        } else {
                            for ox in 0..<ow {
                                let column = columns[ox]
                                var sum: T = 0
                                for ky in row.first..<row.end {
                                    let line = plane + (oy * sy - py + ky * dy) * wd + (ox * sx - px)
                                    for kx in column.first..<column.end { sum += line[kx * dx] }
                                }
                                target[ox] = sum / divisor(row, column, countPadding)
                            }
                        }
                    }
                }
            }
        }
        return out
    }

    /// The number an average window's sum is divided by: its in-image taps, or with
    /// count_include_pad its taps in the image or the explicit padding. The padded extent of a
    /// huge kernel can pass Int's range; its size as a float cannot overflow.
    @inline(__always)
    private static func divisor<T: InterpreterScalar>(_ row: (first: Int, end: Int, padded: Int),
                                                      _ column: (first: Int, end: Int, padded: Int), _ countPadding: Bool) -> T {
        let count = countPadding ? T(row.padded) * T(column.padded) : T((row.end - row.first) * (column.end - column.first))
        return Swift.max(count, 1)
    }

    /// The running maximum of max-pooling, as ONNX Runtime keeps it: a NaN element is passed over
    /// (`v > best` is false), so a window's maximum is that of its numbers, and NaN only when every
    /// element is NaN (`best` starts as NaN and the first number replaces it).
    @inline(__always)
    static func larger<T: InterpreterScalar>(_ best: T, _ v: T) -> T {
        v > best || best.isNaN ? v : best
    }

    /// Whether `maxPoolPadded`'s plane stays within a few times the image. A kernel of 2³¹ with
    /// SAME padding pads by as much, and its plane (whose size overflowed Int) would dwarf the
    /// input; the general loop computes such windows from their bounds instead.
    private static func paddedPlaneIsSmall(_ shape: [Int], _ w: Window) -> Bool {
        let (height, heightOverflow) = (w.output[0] - 1).multipliedReportingOverflow(by: w.strides[0])
        let (width, widthOverflow) = (w.output[1] - 1).multipliedReportingOverflow(by: w.strides[1])
        let (planeHeight, o1) = height.addingReportingOverflow(w.kernel[0])
        let (planeWidth, o2) = width.addingReportingOverflow(w.kernel[1])
        let (plane, o3) = planeHeight.multipliedReportingOverflow(by: planeWidth)
        guard !heightOverflow, !widthOverflow, !o1, !o2, !o3 else { return false }
        return plane <= max(4 * shape[2] * shape[3], 4096)
    }

    /// Each channel plane as the padded-plane paths read it, with its row pitch: the image itself
    /// when every window lies inside it (no padding reached), else a copy surrounded by `fill`
    /// as far as the windows reach.
    private static func forEachPlane<T: InterpreterScalar>(_ x: UnsafeBufferPointer<T>, _ shape: [Int], _ w: Window, fill: T,
                                                           _ body: (_ channel: Int, _ plane: UnsafePointer<T>, _ pitch: Int) -> Void) {
        let (h, wd) = (shape[2], shape[3]), (oh, ow) = (w.output[0], w.output[1])
        let (top, left) = (w.pads[0], w.pads[1])
        let planeHeight = (oh - 1) * w.strides[0] + w.kernel[0], planeWidth = (ow - 1) * w.strides[1] + w.kernel[1]
        let channels = shape[0] * shape[1]
        if top == 0, left == 0, planeHeight <= h, planeWidth <= wd {
            for c in 0..<channels { body(c, x.baseAddress! + c * h * wd, wd) }
            return
        }
        let rows = max(0, min(h, planeHeight - top)), columns = max(0, min(wd, planeWidth - left))
        var plane = [T](repeating: fill, count: planeHeight * planeWidth)
        plane.withUnsafeMutableBufferPointer { pp in
            let padded = pp.baseAddress!
            for c in 0..<channels {
                let image = x.baseAddress! + c * h * wd
                for r in 0..<rows {
                    (padded + (top + r) * planeWidth + left).update(from: image + r * wd, count: columns)
                }
                body(c, UnsafePointer(padded), planeWidth)
            }
        }
    }

    /// MaxPool without dilation: each channel is read from a plane padded with NaN (as far as
    /// the windows reach), then every window tap is one branch-free pass over an output row.
    /// The taps are visited in the order of the general loop and a NaN never replaces a number,
    /// so the result is the same.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    private static func maxPoolPadded<T: InterpreterScalar>(_ x: [T], _ shape: [Int], _ w: Window) -> [T] {
        let (oh, ow) = (w.output[0], w.output[1])
        let (kh, kw, sy, sx) = (w.kernel[0], w.kernel[1], w.strides[0], w.strides[1])
        let count = shape[0] * shape[1] * oh * ow
        var out = [T](filling: count) { _ in }
        x.withUnsafeBufferPointer { xp in
            out.withUnsafeMutableBufferPointer { op in
                forEachPlane(xp, shape, w, fill: .nan) { c, padded, pitch in
                    for oy in 0..<oh {
                        let target = op.baseAddress! + (c * oh + oy) * ow
                        target.update(repeating: .nan, count: ow)
                        for ky in 0..<kh {
                            let row = padded + (oy * sy + ky) * pitch
                            for kx in 0..<kw {
                                let source = row + kx
                                if sx == 1 {
                                    for i in 0..<ow { target[i] = larger(target[i], source[i]) }
                                } else if sx == 2 {
                                    for i in 0..<ow { target[i] = larger(target[i], source[2 * i]) }
                                } else {
                                    for i in 0..<ow { target[i] = larger(target[i], source[i * sx]) }
                                }
                            }
                        }
                    }
                }
            }
        }
        return out
    }

    /// AveragePool without dilation, the same way: a plane padded with zeros, each tap one pass
    /// adding into the output row, then one division by the window's count (precomputed per
    /// output position). The sums add the taps in the general loop's order (rows, then columns);
    /// the padding's zeros change no sum, which starts at +0 and so is never −0. Same bits.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    private static func averagePoolPadded<T: InterpreterScalar>(_ x: [T], _ shape: [Int], _ w: Window, _ countPadding: Bool) -> [T] {
        let (h, wd) = (shape[2], shape[3]), (oh, ow) = (w.output[0], w.output[1])
        let (kh, kw, sy, sx) = (w.kernel[0], w.kernel[1], w.strides[0], w.strides[1])
        let rows = windowRanges(size: h, output: oh, kernel: kh, stride: sy, dilation: 1, padBefore: w.pads[0], padAfter: w.pads[2])
        let columns = windowRanges(size: wd, output: ow, kernel: kw, stride: sx, dilation: 1, padBefore: w.pads[1], padAfter: w.pads[3])
        let divisors = [T](filling: oh * ow) { d in
            for oy in 0..<oh {
                for ox in 0..<ow { (d.baseAddress! + oy * ow + ox).initialize(to: divisor(rows[oy], columns[ox], countPadding)) }
            }
        }
        let count = shape[0] * shape[1] * oh * ow
        var out = [T](filling: count) { _ in }
        x.withUnsafeBufferPointer { xp in
            out.withUnsafeMutableBufferPointer { op in
                divisors.withUnsafeBufferPointer { dp in
                    forEachPlane(xp, shape, w, fill: 0) { c, padded, pitch in
                        for oy in 0..<oh {
                            let target = op.baseAddress! + (c * oh + oy) * ow
                            let divisor = dp.baseAddress! + oy * ow
                            target.update(repeating: 0, count: ow)
                            for ky in 0..<kh {
                                let row = padded + (oy * sy + ky) * pitch
                                for kx in 0..<kw {
                                    let source = row + kx
                                    if sx == 1 {
                                        for i in 0..<ow { target[i] += source[i] }
                                    } else if sx == 2 {
                                        for i in 0..<ow { target[i] += source[2 * i] }
                                    } else {
                                        for i in 0..<ow { target[i] += source[i * sx] }
                                    }
                                }
                            }
                            for i in 0..<ow { target[i] = target[i] / divisor[i] }
                        }
                    }
                }
            }
        }
        return out
    }
}
