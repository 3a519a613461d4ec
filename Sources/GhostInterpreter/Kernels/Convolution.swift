import CKernels

/// 1-D and 2-D convolution, NCW/NCHW, with groups, strides, dilations, pads and auto_pad. Grouped
/// convolutions with several input channels per group go through im2col and one GEMM per group
/// and image; depthwise convolutions (one input channel per group) through a direct loop.
enum Convolution {
    struct Geometry {
        var batch = 0, inputChannels = 0, height = 0, width = 0
        var outputChannels = 0, inputPerGroup = 0, kernelHeight = 0, kernelWidth = 0
        var strides = [1, 1], dilations = [1, 1], pads = [0, 0, 0, 0], groups = 1
        var outputHeight = 0, outputWidth = 0
    }

    static func evaluate(_ context: NodeContext) throws(InterpreterError) -> Buffer {
        let x = try context.input(0), w = try context.input(1)
        guard (x.shape.count == 4 || x.shape.count == 3), w.shape.count == x.shape.count else {
            throw context.unsupported("input rank", "\(x.shape.count) with weight rank \(w.shape.count) (1-D and 2-D convolutions run, NCW and NCHW)")
        }
        // A 1-D convolution is the 2-D one over a single row.
        let lift = x.shape.count == 3
        let xShape = lift ? [x.shape[0], x.shape[1], 1, x.shape[2]] : x.shape
        let wShape = lift ? [w.shape[0], w.shape[1], 1, w.shape[2]] : w.shape
        let g = try geometry(context, x: xShape, w: wShape, lifted: lift)
        let bias = context.optionalInput(2)
        if let bias, bias.count != g.outputChannels {
            throw context.fail("bias has \(bias.count) values for \(g.outputChannels) output channels")
        }
        let fullShape = [g.batch, g.outputChannels, g.outputHeight, g.outputWidth]
        let shape = lift ? [g.batch, g.outputChannels, g.outputWidth] : fullShape
        _ = try context.elementCount(of: fullShape)
        let epilogue = context.prepared?.epilogue
        if let channels = epilogue?.batchNorm?.channels, channels != g.outputChannels {
            throw context.fail("the BatchNormalization after it has \(channels) channels for \(g.outputChannels) outputs")
        }
        let packed = context.prepared?.packedWeights.flatMap { $0.fits(g) ? $0 : nil }
        switch (x.storage, w.storage, bias?.storage) {
        case (.float(let xv), .float(let wv), .float(let bv)?):
            return Buffer(shape: shape, storage: .float(run(xv, wv, bv, g, epilogue, packed: packed)))
        case (.float(let xv), .float(let wv), nil): return Buffer(shape: shape, storage: .float(run(xv, wv, nil, g, epilogue, packed: packed)))
        case (.double(let xv), .double(let wv), .double(let bv)?):
            return Buffer(shape: shape, storage: .double(run(xv, wv, bv, g, epilogue, packed: packed)))
        case (.double(let xv), .double(let wv), nil): return Buffer(shape: shape, storage: .double(run(xv, wv, nil, g, epilogue, packed: packed)))
        default: throw context.fail("input, weight and bias must all be floating point of one precision")
        }
    }

    /// Reads a spatial attribute; for a 1-D op (`lifted`) puts the neutral value for the added
    /// height axis in front (pads: one before and one after).
    static func spatial(_ context: NodeContext, _ name: String, lifted: Bool, neutral: Int) throws(InterpreterError) -> [Int]? {
        guard let values = try context.ints(name) else { return nil }
        guard lifted else { return values }
        if name == "pads" {
            guard values.count == 2 else { throw context.fail("pads \(values) must have 2 values for a 1-D window") }
            return [neutral, values[0], neutral, values[1]]
        }
        guard values.count == 1 else { throw context.fail("\(name) \(values) must have 1 value for a 1-D window") }
        return [neutral] + values
    }

    static func geometry(_ context: NodeContext, x: [Int], w: [Int], lifted: Bool) throws(InterpreterError) -> Geometry {
        var g = Geometry()
        (g.batch, g.inputChannels, g.height, g.width) = (x[0], x[1], x[2], x[3])
        (g.outputChannels, g.inputPerGroup, g.kernelHeight, g.kernelWidth) = (w[0], w[1], w[2], w[3])
        g.groups = try context.int("group", 1)
        // The product overflows for a group near Int64.max; that never fits, so it is the same refusal.
        let (groupedChannels, overflow) = g.inputPerGroup.multipliedReportingOverflow(by: g.groups)
        guard g.groups >= 1, g.inputPerGroup >= 1, !overflow, groupedChannels == g.inputChannels, g.outputChannels % g.groups == 0 else {
            throw context.fail("weight \(w) with group=\(g.groups) does not fit input \(x)")
        }
        if let kernel = try spatial(context, "kernel_shape", lifted: lifted, neutral: 1), kernel != [g.kernelHeight, g.kernelWidth] {
            throw context.fail("kernel_shape \(kernel) disagrees with the weight \(w)")
        }
        g.strides = try spatial(context, "strides", lifted: lifted, neutral: 1) ?? [1, 1]
        g.dilations = try spatial(context, "dilations", lifted: lifted, neutral: 1) ?? [1, 1]
        g.pads = try spatial(context, "pads", lifted: lifted, neutral: 0) ?? [0, 0, 0, 0]
        guard g.strides.count == 2, g.dilations.count == 2, g.pads.count == 4,
              g.strides.allSatisfy({ $0 >= 1 }), g.dilations.allSatisfy({ $0 >= 1 }), g.pads.allSatisfy({ $0 >= 0 }) else {
            throw context.fail("strides \(g.strides), dilations \(g.dilations) or pads \(g.pads) are invalid")
        }
        let sizes = [g.height, g.width], kernel = [g.kernelHeight, g.kernelWidth]
        g.pads = try resolvedPads(context, sizes: sizes, kernel: kernel, strides: g.strides, dilations: g.dilations, pads: g.pads)
        var out: [Int] = []
        for axis in 0..<2 {
            guard kernel[axis] >= 1 else { throw context.fail("the weight \(w) has an empty kernel") }
            let reach = try context.product(g.dilations[axis], kernel[axis] - 1)
            let span = try context.sum(sizes[axis], g.pads[axis], g.pads[axis + 2], -reach, -1)
            guard span >= 0 else {
                throw context.fail("the \(kernel[axis])-wide kernel (dilation \(g.dilations[axis])) does not fit the padded input \(x)")
            }
            out.append(span / g.strides[axis] + 1)
        }
        (g.outputHeight, g.outputWidth) = (out[0], out[1])
        return g
    }

    /// Explicit pads after applying auto_pad (shared with pooling).
    static func resolvedPads(_ context: NodeContext, sizes: [Int], kernel: [Int], strides: [Int], dilations: [Int], pads: [Int]) throws(InterpreterError) -> [Int] {
        let mode = try context.string("auto_pad", "NOTSET")
        switch mode {
        case "NOTSET": return pads
        case "VALID": return [Int](repeating: 0, count: 2 * sizes.count)
        case "SAME_UPPER", "SAME_LOWER":
            // Output ceil(size / stride); the total padding that needs, the odd one at the end
            // (UPPER) or the beginning (LOWER).
            var result = [Int](repeating: 0, count: 2 * sizes.count)
            for axis in sizes.indices {
                let output = try context.sum(sizes[axis], strides[axis], -1) / strides[axis]
                let stepped = try context.product(output - 1, strides[axis])
                let reach = try context.product(kernel[axis] - 1, dilations[axis])
                let total = max(try context.sum(stepped, reach, 1, -sizes[axis]), 0)
                let small = total / 2, large = total - small
                result[axis] = mode == "SAME_UPPER" ? small : large
                result[axis + sizes.count] = mode == "SAME_UPPER" ? large : small
            }
            return result
        default: throw context.unsupported("auto_pad", mode)
        }
    }

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func run<T: InterpreterScalar>(_ x: [T], _ w: [T], _ bias: [T]?, _ g: Geometry, _ epilogue: ConvEpilogue? = nil,
                                          packed: PackedWeights? = nil) -> [T] {
        let plane = g.outputHeight * g.outputWidth
        let count = g.batch * g.outputChannels * plane
        var out: [T]
        if g.inputPerGroup == 1 {
            if depthwiseWritesEveryOutput(g) {
                out = [T](filling: count) { _ in }
            } else {
                out = [T](repeating: 0, count: count)  // these depthwise loops accumulate into it
            }
            guard !out.isEmpty else { return out }
            depthwise(x, w, &out, g)
        } else {
            // Every element is written by a GEMM with beta = 0 (which never reads C).
            out = [T](filling: count) { _ in }
            guard !out.isEmpty else { return out }
            if !DirectConvolution.run(x, w, &out, g, packed: packed) { grouped(x, w, &out, g, packed: packed) }
        }
        let batchNorm = epilogue?.batchNorm?.values(as: T.self), activation = epilogue?.activation
        guard bias != nil || batchNorm != nil || activation != nil else { return out }
        // Bias, then the fused nodes, one output plane at a time while it is in cache: one C loop
        // for all three, or (for an activation without one) the C loop for the first two and
        // the activation's own loop after it.
        let none = ActivationKernel(code: Int32(GK_ACT_NONE))
        let kernel = activation == nil ? none : activation?.kernel  // nil: the activation has no C loop
        out.withUnsafeMutableBufferPointer { o in
            for n in 0..<g.batch {
                for c in 0..<g.outputChannels {
                    let channel = o.baseAddress! + (n * g.outputChannels + c) * plane
                    T.epilogue(channel, channel, plane, bias: bias?[c], affine: batchNorm.map { ($0.scale[c], $0.shift[c]) },
                               kernel ?? none)
                    if kernel == nil { activation?.applyInPlace(UnsafeMutableBufferPointer(start: channel, count: plane)) }
                }
            }
        }
        return out
    }

    /// One GEMM per image and group: W_g [M/g × K] · col [K × OH·OW], K = C/g · kh · kw — by
    /// the packed-weight kernel when `packed` is given (in T's precision), else by BLAS.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    private static func grouped<T: InterpreterScalar>(_ x: [T], _ w: [T], _ out: inout [T], _ g: Geometry, packed: PackedWeights?) {
        let plane = g.outputHeight * g.outputWidth
        let fullK = g.inputPerGroup * g.kernelHeight * g.kernelWidth
        var k = fullK  // the rows of col: fewer when taps are left out
        let outPerGroup = g.outputChannels / g.groups
        let pointwise = g.kernelHeight == 1 && g.kernelWidth == 1 && g.strides == [1, 1] && g.pads == [0, 0, 0, 0]
        // With finite weights a dilated kernel's border runs region by region without the taps
        // over padding (same bits, less work: TapRegions).
        if let full = packed, full.finite, !pointwise, let regions = TapRegions(g) {
            let done = x.withUnsafeBufferPointer { xp in
                out.withUnsafeMutableBufferPointer { op in byRegions(xp.baseAddress!, op.baseAddress!, g, packed: full, regions: regions) }
            }
            if done { return }
        }
        // Otherwise (regions would keep most of the work), a tap that reads only padding for every
        // output adds exact zeros to every sum when the weights are finite: im2col leaves its rows
        // out and the product uses the weights of the other taps.
        let live = liveTaps(g)
        var packed = packed
        var taps: [Bool]? = nil
        if let full = packed, full.finite, live.contains(false), live.contains(true) {
            let perChannel = g.kernelHeight * g.kernelWidth
            let kept = (0..<g.inputPerGroup).flatMap { c in live.indices.filter { live[$0] }.map { c * perChannel + $0 } }
            if let reduced = full.keeping(columns: kept, as: T.self) {
                packed = reduced
                taps = live
                k = kept.count
            }
        }
        // im2col writes every element, zeros included.
        var col = [T](filling: pointwise ? 0 : k * plane) { _ in }
        x.withUnsafeBufferPointer { xp in
            w.withUnsafeBufferPointer { wp in
                out.withUnsafeMutableBufferPointer { op in
                    for n in 0..<g.batch {
                        for group in 0..<g.groups {
                            let input = xp.baseAddress! + (n * g.inputChannels + group * g.inputPerGroup) * g.height * g.width
                            let weights = wp.baseAddress! + group * outPerGroup * fullK
                            let target = op.baseAddress! + (n * g.outputChannels + group * outPerGroup) * plane
                            func multiply(_ columns: UnsafePointer<T>) {
                                if let packed, packed.multiply(group: group, columns, ldb: plane, n: plane, into: target, ldc: plane) {
                                    return
                                }
                                // Only reached with every tap (`taps` is set only with packed weights of T).
                                T.gemm(transA: false, transB: false, m: outPerGroup, n: plane, k: fullK, alpha: 1,
                                       a: weights, lda: fullK, b: columns, ldb: plane, beta: 0, c: target, ldc: plane)
                            }
                            if pointwise {
                                multiply(input)  // a 1×1, stride-1, unpadded kernel reads the image as it is
                            } else {
                                col.withUnsafeMutableBufferPointer { columns in
                                    im2col(input, columns.baseAddress!, g, taps: taps)
                                    multiply(columns.baseAddress!)
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Whether each kernel tap (ky·kw + kx) reads the input for at least one output position.
    static func liveTaps(_ g: Geometry) -> [Bool] {
        var live = [Bool](repeating: false, count: g.kernelHeight * g.kernelWidth)
        for ky in 0..<g.kernelHeight {
            let (top, bottom) = validRange(kernelOffset: ky, g: g, axis: 0)
            for kx in 0..<g.kernelWidth {
                let (left, right) = validRange(kernelOffset: kx, g: g, axis: 1)
                live[ky * g.kernelWidth + kx] = top <= bottom && left <= right
            }
        }
        return live
    }

    /// col[(c·kh + ky)·kw + kx][oy·OW + ox] = x[c][oy·s − p + ky·d][ox·s − p + kx·d], 0 outside;
    /// with `taps`, only the rows of the taps marked true, in the same order.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    private static func im2col<T: InterpreterScalar>(_ x: UnsafePointer<T>, _ col: UnsafeMutablePointer<T>, _ g: Geometry, taps: [Bool]? = nil) {
        let (oh, ow) = (g.outputHeight, g.outputWidth)
        var row = col
        for c in 0..<g.inputPerGroup {
            let channel = x + c * g.height * g.width
            for ky in 0..<g.kernelHeight {
                for kx in 0..<g.kernelWidth {
                    if let taps, !taps[ky * g.kernelWidth + kx] { continue }
                    let (first, last) = validRange(kernelOffset: kx, g: g, axis: 1)
                    for oy in 0..<oh {
                        let iy = oy * g.strides[0] - g.pads[0] + ky * g.dilations[0]
                        let destination = row + oy * ow
                        guard iy >= 0, iy < g.height, first <= last else {
                            destination.update(repeating: 0, count: ow)
                            continue
                        }
                        if first > 0 { destination.update(repeating: 0, count: first) }
                        let source = channel + iy * g.width
                        var ix = first * g.strides[1] - g.pads[1] + kx * g.dilations[1]
                        for ox in first...last {
                            destination[ox] = source[ix]
                            ix &+= g.strides[1]  // the step past the last one is never read (and may wrap)
                        }
                        if last < ow - 1 { (destination + last + 1).update(repeating: 0, count: ow - 1 - last) }
                    }
                    row += oh * ow
                }
            }
        }
    }

    /// The output positions along `axis` whose input index for this kernel offset is in bounds.
    static func validRange(kernelOffset: Int, g: Geometry, axis: Int) -> (Int, Int) {
        let stride = g.strides[axis], pad = g.pads[axis], size = axis == 0 ? g.height : g.width
        let output = axis == 0 ? g.outputHeight : g.outputWidth
        let shift = kernelOffset * g.dilations[axis] - pad  // input index = o·stride + shift
        // ⌈−shift / stride⌉ without forming −shift + stride, which overflows for a stride near Int64.max.
        let first = shift >= 0 ? 0 : (-shift - 1) / stride + 1
        let last = min(output - 1, (size - 1 - shift) >= 0 ? (size - 1 - shift) / stride : -1)
        return (first, last)
    }
}
