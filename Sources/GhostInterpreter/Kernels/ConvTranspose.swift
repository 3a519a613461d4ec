/// ConvTranspose (1-D, 2-D and 3-D, NC…): the adjoint of Conv. Every input element scatters
/// itself times the kernel into the output:
///
///     y[n][g·M′ + m][o] = b[g·M′ + m] + Σ_c Σ_k x[n][g·C′ + c][i] · w[g·C′ + c][m][k],
///     o = i·stride − pad_begin + k·dilation (per spatial axis, where 0 ≤ o < output size)
///
/// with the weight laid out (C, M/group, k…). Computed per image and group as one GEMM,
/// col = W_gᵀ · X_g ([M′·K] × [spatial input]), then col2im adds each column row into the output
/// (ONNX Runtime's order: the same GEMM, the taps added channel by channel, then the bias).
enum ConvTranspose {
    /// Sizes lifted to three spatial axes (depth, height, width; 1-D and 2-D ops get leading
    /// axes of size 1, stride 1, no padding).
    struct Geometry {
        var batch = 0, inputChannels = 0, outputChannels = 0, groups = 1
        var input = [1, 1, 1], kernel = [1, 1, 1], strides = [1, 1, 1], dilations = [1, 1, 1]
        var padsBegin = [0, 0, 0], output = [1, 1, 1]

        var inputPerGroup: Int { inputChannels / groups }
        var outputPerGroup: Int { outputChannels / groups }
        var inputPlane: Int { input[0] * input[1] * input[2] }
        var outputPlane: Int { output[0] * output[1] * output[2] }
        var kernelSize: Int { kernel[0] * kernel[1] * kernel[2] }
    }

    static func evaluate(_ context: NodeContext) throws(InterpreterError) -> Buffer {
        let x = try context.input(0), w = try context.input(1)
        guard (3...5).contains(x.shape.count), w.shape.count == x.shape.count else {
            throw context.unsupported("input rank", "\(x.shape.count) with weight rank \(w.shape.count) (1-D, 2-D and 3-D transposed convolutions run)")
        }
        let g = try geometry(context, x: x.shape, w: w.shape)
        let bias = context.optionalInput(2)
        if let bias, bias.count != g.outputChannels {
            throw context.fail("bias has \(bias.count) values for \(g.outputChannels) output channels")
        }
        let spatialRank = x.shape.count - 2
        let shape = [g.batch, g.outputChannels] + g.output.suffix(spatialRank)
        _ = try context.elementCount(of: shape)
        // The column matrix of one image and group.
        _ = try context.elementCount(of: [g.outputPerGroup, g.kernelSize, g.inputPlane])
        switch (x.storage, w.storage, bias?.storage) {
        case (.float(let xv), .float(let wv), .float(let bv)?): return Buffer(shape: shape, storage: .float(run(xv, wv, bv, g)))
        case (.float(let xv), .float(let wv), nil): return Buffer(shape: shape, storage: .float(run(xv, wv, nil, g)))
        case (.double(let xv), .double(let wv), .double(let bv)?): return Buffer(shape: shape, storage: .double(run(xv, wv, bv, g)))
        case (.double(let xv), .double(let wv), nil): return Buffer(shape: shape, storage: .double(run(xv, wv, nil, g)))
        default: throw context.fail("input, weight and bias must all be floating point of one precision")
        }
    }

    /// A per-axis attribute of `count` values, or `fallback` when absent.
    private static func axes(_ context: NodeContext, _ name: String, count: Int, fallback: Int) throws(InterpreterError) -> [Int] {
        guard let values = try context.ints(name) else { return [Int](repeating: fallback, count: count) }
        guard values.count == count else { throw context.fail("\(name) \(values) must have \(count) values") }
        return values
    }

    /// The output size and leading pad of every spatial axis, as ONNX Runtime works them out:
    /// explicit pads give y = s·(x − 1) + output_padding + (k − 1)·d + 1 − pads; `output_shape`
    /// (which overrides pads) or SAME_UPPER/SAME_LOWER (target x·s) take the total padding
    /// max(0, natural size − target), the odd one at the end for SAME_UPPER and at the beginning
    /// otherwise, as the spec says; a target past the natural size is filled with the bias.
    static func geometry(_ context: NodeContext, x: [Int], w: [Int]) throws(InterpreterError) -> Geometry {
        let rank = x.count - 2
        var g = Geometry()
        (g.batch, g.inputChannels) = (x[0], x[1])
        g.groups = try context.int("group", 1)
        guard g.groups >= 1, w[0] == g.inputChannels, g.inputChannels % g.groups == 0 else {
            throw context.fail("weight \(w) with group=\(g.groups) does not fit input \(x) (the weight is C × M/group × k…)")
        }
        let (channels, overflow) = w[1].multipliedReportingOverflow(by: g.groups)
        guard !overflow else { throw context.fail("weight \(w) with group=\(g.groups) has too many output channels") }
        g.outputChannels = channels
        let kernel = Array(w[2...])
        if let declared = try context.ints("kernel_shape"), declared != kernel {
            throw context.fail("kernel_shape \(declared) disagrees with the weight \(w)")
        }
        let strides = try axes(context, "strides", count: rank, fallback: 1)
        let dilations = try axes(context, "dilations", count: rank, fallback: 1)
        let outputPadding = try axes(context, "output_padding", count: rank, fallback: 0)
        let explicitPads = try context.ints("pads")
        if let explicitPads, explicitPads.count != 2 * rank { throw context.fail("pads \(explicitPads) must have \(2 * rank) values") }
        let pads = explicitPads ?? [Int](repeating: 0, count: 2 * rank)
        let outputShape = try context.ints("output_shape")
        if let outputShape, outputShape.count != rank {
            throw context.fail("output_shape \(outputShape) must have \(rank) values (the spatial axes)")
        }
        let mode = try context.string("auto_pad", "NOTSET")
        guard ["NOTSET", "VALID", "SAME_UPPER", "SAME_LOWER"].contains(mode) else { throw context.unsupported("auto_pad", mode) }
        if mode != "NOTSET", explicitPads != nil { throw context.fail("pads cannot be given with auto_pad \(mode)") }
        guard strides.allSatisfy({ $0 >= 1 }), dilations.allSatisfy({ $0 >= 1 }), pads.allSatisfy({ $0 >= 0 }),
              outputPadding.allSatisfy({ $0 >= 0 }), kernel.allSatisfy({ $0 >= 1 }) else {
            throw context.fail("strides \(strides), dilations \(dilations), pads \(pads), output_padding \(outputPadding) or kernel \(kernel) are invalid")
        }
        let lift = 3 - rank
        for axis in 0..<rank {
            let (input, stride, dilation, adjustment) = (x[axis + 2], strides[axis], dilations[axis], outputPadding[axis])
            guard adjustment < stride else {
                throw context.fail("output_padding \(adjustment) must be less than the stride \(stride) on spatial axis \(axis)")
            }
            // natural = s·(x − 1) + output_padding + (k − 1)·d + 1, every step checked.
            let (reach, o1) = (kernel[axis] - 1).multipliedReportingOverflow(by: dilation)
            let (extent, o2) = reach.addingReportingOverflow(1)
            let (spread, o3) = stride.multipliedReportingOverflow(by: input - 1)
            let (partial, o4) = spread.addingReportingOverflow(extent)
            let (natural, o5) = partial.addingReportingOverflow(adjustment)
            guard !(o1 || o2 || o3 || o4 || o5) else {
                throw context.fail("the output size on spatial axis \(axis) overflows (stride \(stride), kernel \(kernel[axis]), dilation \(dilation))")
            }
            var begin: Int, size: Int
            if outputShape != nil || mode == "SAME_UPPER" || mode == "SAME_LOWER" {
                var target: Int
                if let outputShape {
                    target = outputShape[axis]
                    guard target >= 1 else { throw context.fail("output_shape \(outputShape) must be positive") }
                } else {
                    let (product, overflow) = input.multipliedReportingOverflow(by: stride)
                    guard !overflow else { throw context.fail("the SAME output size on spatial axis \(axis) overflows") }
                    target = product
                }
                let total = max(0, natural - target)
                begin = mode == "SAME_UPPER" ? total / 2 : total - total / 2
                size = outputShape != nil ? target : natural - total
                // ONNX Runtime's check that a Conv over the output would give back the input.
                let (covered, overflow) = size.addingReportingOverflow(total)
                guard !overflow, (covered - extent) / stride + 1 == input else {
                    throw context.fail("output_shape \(target) on spatial axis \(axis) does not fit an input of \(input) (natural size \(natural))")
                }
            } else if mode == "VALID" {
                (begin, size) = (0, natural)
            } else {
                begin = pads[axis]
                let (once, o6) = natural.subtractingReportingOverflow(pads[axis])
                let (twice, o7) = once.subtractingReportingOverflow(pads[axis + rank])
                guard !(o6 || o7) else { throw context.fail("pads \(pads) are out of range") }
                size = twice
            }
            guard size >= 1 else {
                throw context.fail("the output size \(size) on spatial axis \(axis) is not positive (natural size \(natural), pads \(pads))")
            }
            g.input[axis + lift] = input
            g.kernel[axis + lift] = kernel[axis]
            g.strides[axis + lift] = stride
            g.dilations[axis + lift] = dilation
            g.padsBegin[axis + lift] = begin
            g.output[axis + lift] = size
        }
        return g
    }

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func run<T: InterpreterScalar>(_ x: [T], _ w: [T], _ bias: [T]?, _ g: Geometry) -> [T] {
        let outputPlane = g.outputPlane, inputPlane = g.inputPlane
        let rows = g.outputPerGroup * g.kernelSize
        var out = [T](repeating: 0, count: g.batch * g.outputChannels * outputPlane)
        guard !out.isEmpty else { return out }
        // A 1×1 stride-1 unpadded kernel maps each input position to the same output position:
        // the GEMM writes the output itself.
        let pointwise = g.kernelSize == 1 && g.strides == [1, 1, 1] && g.padsBegin == [0, 0, 0] && g.output == g.input
        if rows > 0, inputPlane > 0, g.inputPerGroup > 0 {
            var col = [T](filling: pointwise ? 0 : rows * inputPlane) { _ in }
            x.withUnsafeBufferPointer { xp in
                w.withUnsafeBufferPointer { wp in
                    out.withUnsafeMutableBufferPointer { op in
                        col.withUnsafeMutableBufferPointer { cp in
                            for n in 0..<g.batch {
                                for group in 0..<g.groups {
                                    let input = xp.baseAddress! + (n * g.inputChannels + group * g.inputPerGroup) * inputPlane
                                    let weights = wp.baseAddress! + group * g.inputPerGroup * rows
                                    let target = op.baseAddress! + (n * g.outputChannels + group * g.outputPerGroup) * outputPlane
                                    // W_g is C′ × rows; its transpose times X_g (C′ × input plane).
                                    let product = pointwise ? target : cp.baseAddress!
                                    T.gemm(transA: true, transB: false, m: rows, n: inputPlane, k: g.inputPerGroup, alpha: 1,
                                           a: weights, lda: rows, b: input, ldb: inputPlane, beta: 0, c: product, ldc: inputPlane)
                                    if !pointwise { col2im(cp.baseAddress!, target, g) }
                                }
                            }
                        }
                    }
                }
            }
        }
        if let bias {
            out.withUnsafeMutableBufferPointer { op in
                for block in 0..<(g.batch * g.outputChannels) {
                    let plane = op.baseAddress! + block * outputPlane
                    let b = bias[block % g.outputChannels]
                    for index in 0..<outputPlane { plane[index] += b }
                }
            }
        }
        return out
    }

    /// out[m][o] += col[(m·K + k)][i] for o = i·s − pad + k·d inside the output, one output
    /// channel of the group at a time (its plane stays in cache over all K taps); the
    /// in-bounds input columns of each width tap are worked out once.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    private static func col2im<T: InterpreterScalar>(_ col: UnsafePointer<T>, _ out: UnsafeMutablePointer<T>, _ g: Geometry) {
        let (inD, inH, inW) = (g.input[0], g.input[1], g.input[2])
        let (outD, outH, outW) = (g.output[0], g.output[1], g.output[2])
        let strideW = g.strides[2], inputPlane = g.inputPlane
        var row = col
        for m in 0..<g.outputPerGroup {
            let plane = out + m * g.outputPlane
            for kd in 0..<g.kernel[0] {
                let shiftD = kd * g.dilations[0] - g.padsBegin[0]
                for kh in 0..<g.kernel[1] {
                    let shiftH = kh * g.dilations[1] - g.padsBegin[1]
                    for kw in 0..<g.kernel[2] {
                        defer { row += inputPlane }
                        let (first, last) = inBounds(shift: kw * g.dilations[2] - g.padsBegin[2], stride: strideW, input: inW, output: outW)
                        guard first <= last else { continue }
                        let startW = first * strideW + kw * g.dilations[2] - g.padsBegin[2]
                        for id in 0..<inD {
                            let od = id * g.strides[0] + shiftD
                            guard od >= 0, od < outD else { continue }
                            for ih in 0..<inH {
                                let oh = ih * g.strides[1] + shiftH
                                guard oh >= 0, oh < outH else { continue }
                                let source = row + (id * inH + ih) * inW
                                let destination = plane + (od * outH + oh) * outW + startW
                                if strideW == 1 {
                                    for iw in first...last { destination[iw - first] += source[iw] }
                                } else {
                                    var ow = 0
                                    for iw in first...last {
                                        destination[ow] += source[iw]
                                        ow += strideW
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// The input positions i whose output position i·stride + shift lies in 0..<output.
    private static func inBounds(shift: Int, stride: Int, input: Int, output: Int) -> (Int, Int) {
        let first = shift >= 0 ? 0 : (-shift + stride - 1) / stride
        let limit = output - 1 - shift
        let last = limit >= 0 ? min(input - 1, limit / stride) : -1
        return (first, last)
    }
}
