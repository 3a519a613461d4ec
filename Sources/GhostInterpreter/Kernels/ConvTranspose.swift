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
        case (.float(let xv), .float(let wv), .float(let bv)?):
            return Buffer(shape: shape, storage: .float(run(xv, wv, bv, g, packed: packedWeights(context, wv, g))))
        case (.float(let xv), .float(let wv), nil):
            return Buffer(shape: shape, storage: .float(run(xv, wv, nil, g, packed: packedWeights(context, wv, g))))
        case (.double(let xv), .double(let wv), .double(let bv)?): return Buffer(shape: shape, storage: .double(run(xv, wv, bv, g)))
        case (.double(let xv), .double(let wv), nil): return Buffer(shape: shape, storage: .double(run(xv, wv, nil, g)))
        default: throw context.fail("input, weight and bias must all be floating point of one precision")
        }
    }

    /// Each group's Wᵀ (M′·K × C′) packed for CKernels' float32 GEMM — the one prepared from a
    /// constant weight, or packed now (a small cost next to the product, which BLAS would repack
    /// on every call anyway); nil where the CPU has no packed kernel.
    private static func packedWeights(_ context: NodeContext, _ w: [Float], _ g: Geometry) -> [PackedWeights]? {
        let rows = g.outputPerGroup * g.kernelSize, perGroup = g.inputPerGroup * rows
        if let prepared = context.prepared?.packedWeights, g.groups == 1, prepared.rows == rows, prepared.columns == g.inputPerGroup {
            return [prepared]
        }
        guard rows > 0, g.inputPerGroup > 0 else { return nil }
        var packed: [PackedWeights] = []
        for group in 0..<g.groups {
            guard let matrix = PackedWeights(matrix: Array(w[(group * perGroup)..<((group + 1) * perGroup)]),
                                             shape: [g.inputPerGroup, rows], transposed: false) else { return nil }
            packed.append(matrix)
        }
        return packed
    }

    /// For a float32 run with a constant weight and one group: the weight packed once (see
    /// `packedWeights`).
    static func prepare(_ context: NodeContext, _ options: PlanOptions) -> PreparedNode? {
        guard options.precision == .float32, let weight = context.optionalInput(1), case .float(let values) = weight.storage,
              weight.shape.count >= 3, (try? context.int("group", 1)) == 1 else { return nil }
        let rows = weight.shape.dropFirst().reduce(1) { $0.multipliedReportingOverflow(by: $1).overflow ? 0 : $0 * $1 }
        guard rows > 0, weight.shape[0] > 0,
              let packed = PackedWeights(matrix: values, shape: [weight.shape[0], rows], transposed: false, threads: options.threads)
        else { return nil }
        return PreparedNode(packedWeights: packed)
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

    /// Elements of the column matrix computed and scattered at a time, so that it stays in
    /// cache between the GEMM and col2im (a whole image's can be tens of megabytes).
    static let columnBudget = 256 * 1024
    /// Columns a chunk's product has at least, so the GEMM kernel still works on wide tiles.
    static let minimumColumns = 384

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func run<T: InterpreterScalar>(_ x: [T], _ w: [T], _ bias: [T]?, _ g: Geometry, packed: [PackedWeights]? = nil) -> [T] {
        let outputPlane = g.outputPlane, inputPlane = g.inputPlane
        let rows = g.outputPerGroup * g.kernelSize, count = g.batch * g.outputChannels * outputPlane
        let computes = rows > 0 && inputPlane > 0 && g.inputPerGroup > 0
        // A 1×1 stride-1 unpadded kernel maps each input position to the same output position:
        // the GEMM writes the output itself.
        let pointwise = g.kernelSize == 1 && g.strides == [1, 1, 1] && g.padsBegin == [0, 0, 0] && g.output == g.input
        // Kernel = stride, unpadded, undilated (2×2 stride-2 upsampling): the taps tile the output,
        // each element gets exactly one, so col2im stores (0 + v) + bias instead of adding to zeros.
        var tiling = !pointwise
        for axis in 0..<3 where g.kernel[axis] != g.strides[axis] || g.dilations[axis] != 1 || g.padsBegin[axis] != 0 {
            tiling = false
        }
        for axis in 0..<3 where g.output[axis] != g.input[axis] * g.strides[axis] { tiling = false }
        var out = computes && (tiling || pointwise) ? [T](filling: count) { _ in } : [T](repeating: 0, count: count)
        guard !out.isEmpty else { return out }
        // Input rows (of the width axis) per chunk; every chunk but the last has this many.
        let inputRows = g.input[0] * g.input[1], width = g.input[2]
        let chunkRows = min(inputRows, max((minimumColumns + width - 1) / max(1, width), columnBudget / max(1, rows * width)))
        if computes {
            var col = [T](filling: pointwise ? 0 : rows * chunkRows * width) { _ in }
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
                                    /// C[rows × n] = W_gᵀ · X_g[:, at ..< at + n].
                                    func multiply(at column: Int, n: Int, into c: UnsafeMutablePointer<T>, ldc: Int) {
                                        if let packed, T.self == Float.self {
                                            let b = UnsafeRawPointer(input + column), result = UnsafeMutableRawPointer(c)
                                            packed[group].multiply(group: 0, b.assumingMemoryBound(to: Float.self), ldb: inputPlane, n: n,
                                                                   into: result.assumingMemoryBound(to: Float.self), ldc: ldc)
                                        } else {
                                            T.gemm(transA: true, transB: false, m: rows, n: n, k: g.inputPerGroup, alpha: 1, a: weights,
                                                   lda: rows, b: input + column, ldb: inputPlane, beta: 0, c: c, ldc: ldc)
                                        }
                                    }
                                    if pointwise {
                                        multiply(at: 0, n: inputPlane, into: target, ldc: inputPlane)
                                        continue
                                    }
                                    for first in stride(from: 0, to: inputRows, by: chunkRows) {
                                        let count = min(chunkRows, inputRows - first), columns = count * width
                                        multiply(at: first * width, n: columns, into: cp.baseAddress!, ldc: columns)
                                        if tiling {
                                            store(cp.baseAddress!, target, g, rows: first..<(first + count),
                                                  bias: bias.map { Array($0[(group * g.outputPerGroup)...].prefix(g.outputPerGroup)) })
                                        } else {
                                            col2im(cp.baseAddress!, target, g, rows: first..<(first + count))
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        if let bias, !(computes && tiling) {
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

    /// out[m][o] += col[(m·K + k)][i] for o = i·s − pad + k·d inside the output, for the input
    /// positions of the width rows `rows` (flattened depth·height index) that `col` holds; the
    /// in-bounds input columns of each width tap are worked out once.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    private static func col2im<T: InterpreterScalar>(_ col: UnsafePointer<T>, _ out: UnsafeMutablePointer<T>, _ g: Geometry,
                                                     rows: Range<Int>) {
        let inH = g.input[1], inW = g.input[2]
        let (outD, outH, outW) = (g.output[0], g.output[1], g.output[2])
        let (strideD, strideH, strideW) = (g.strides[0], g.strides[1], g.strides[2])
        let (kernelD, kernelH, kernelW) = (g.kernel[0], g.kernel[1], g.kernel[2])
        let columns = rows.count * inW, outputPlane = g.outputPlane
        var row = col
        for m in 0..<g.outputPerGroup {
            let plane = out + m * outputPlane
            for kd in 0..<kernelD {
                let shiftD = kd * g.dilations[0] - g.padsBegin[0]
                for kh in 0..<kernelH {
                    let shiftH = kh * g.dilations[1] - g.padsBegin[1]
                    for kw in 0..<kernelW {
                        defer { row += columns }
                        let shiftW = kw * g.dilations[2] - g.padsBegin[2]
                        let (first, last) = inBounds(shift: shiftW, stride: strideW, input: inW, output: outW)
                        guard first <= last else { continue }
                        let startW = first * strideW + shiftW
                        for r in rows {
                            let od = (r / inH) * strideD + shiftD, oh = (r % inH) * strideH + shiftH
                            guard od >= 0, od < outD, oh >= 0, oh < outH else { continue }
                            let source = row + (r - rows.lowerBound) * inW
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

    /// col2im when the taps tile the output (kernel = stride, no padding or dilation): each output
    /// element is (0 + its one column value) + bias, what adding to zeros then the bias gives.
    /// An output row is written left to right, interleaving the width taps' column rows.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    private static func store<T: InterpreterScalar>(_ col: UnsafePointer<T>, _ out: UnsafeMutablePointer<T>, _ g: Geometry,
                                                    rows: Range<Int>, bias: [T]?) {
        let inH = g.input[1], inW = g.input[2], outH = g.output[1], outW = g.output[2]
        let (strideD, strideH, strideW) = (g.strides[0], g.strides[1], g.strides[2])
        let columns = rows.count * inW, outputPlane = g.outputPlane
        for m in 0..<g.outputPerGroup {
            let plane = out + m * outputPlane, b = bias?[m] ?? 0
            for kd in 0..<strideD {
                for kh in 0..<strideH {
                    let taps = col + ((m * strideD + kd) * strideH + kh) * strideW * columns
                    for r in rows {
                        let od = (r / inH) * strideD + kd, oh = (r % inH) * strideH + kh
                        let source = taps + (r - rows.lowerBound) * inW
                        let destination = plane + (od * outH + oh) * outW
                        if strideW == 2 {
                            let even = source, odd = source + columns
                            for iw in 0..<inW {
                                destination[2 * iw] = (0 + even[iw]) + b
                                destination[2 * iw + 1] = (0 + odd[iw]) + b
                            }
                        } else {
                            for iw in 0..<inW {
                                for kw in 0..<strideW { destination[iw * strideW + kw] = (0 + source[kw * columns + iw]) + b }
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
