import CKernels
/// An inference BatchNormalization's per-channel scale and shift, in the run's precision.
enum BatchNormCoefficients: Sendable {
    case float(scale: [Float], shift: [Float])
    case double(scale: [Double], shift: [Double])

    var channels: Int {
        switch self {
        case .float(let scale, _): scale.count
        case .double(let scale, _): scale.count
        }
    }

    /// The coefficients as [T], when T is their precision.
    func values<T: InterpreterScalar>(as _: T.Type) -> (scale: [T], shift: [T])? {
        switch self {
        case .float(let scale, let shift) where T.self == Float.self:
            (unsafeBitCast(scale, to: [T].self), unsafeBitCast(shift, to: [T].self))
        case .double(let scale, let shift) where T.self == Double.self:
            (unsafeBitCast(scale, to: [T].self), unsafeBitCast(shift, to: [T].self))
        default: nil
        }
    }
}

/// BatchNormalization (inference), LayerNormalization and Softmax.
enum Normalization {
    static func batchNorm(_ context: NodeContext) throws(InterpreterError) -> Buffer {
        let x = try context.input(0)
        guard x.shape.count >= 2 else { throw context.fail("input must be N×C×…, got \(x.shape)") }
        let coefficients: BatchNormCoefficients
        if let prepared = context.prepared?.batchNorm {
            coefficients = prepared
        } else {
            coefficients = try batchNormCoefficients(context)
        }
        let channels = x.shape[1]
        guard coefficients.channels == channels else { throw context.fail("parameters must have \(channels) values") }
        let plane = x.shape.dropFirst(2).reduce(1, *)
        // y = x·s[c] + t[c], plane by plane, by the Conv epilogue's C loop (so a BatchNormalization
        // fused into a Conv computes the same bits).
        func apply<T: InterpreterScalar>(_ values: [T], _ scale: [T], _ shift: [T]) -> [T] {
            guard plane > 0 else { return values }
            let none = ActivationKernel(code: Int32(GK_ACT_NONE))
            return [T](filling: values.count) { out in
                values.withUnsafeBufferPointer { x in
                    for block in 0..<(x.count / plane) {
                        let c = block % channels
                        T.epilogue(out.baseAddress! + block * plane, x.baseAddress! + block * plane, plane, bias: nil,
                                   affine: (scale[c], shift[c]), none)
                    }
                }
            }
        }
        switch (x.storage, coefficients) {
        case (.float(let v), .float(let scale, let shift)): return Buffer(shape: x.shape, storage: .float(apply(v, scale, shift)))
        case (.double(let v), .double(let scale, let shift)): return Buffer(shape: x.shape, storage: .double(apply(v, scale, shift)))
        default: throw context.fail("expects floating-point input")
        }
    }

    /// The per-channel affine map of an inference BatchNormalization, in the run's precision and
    /// in ONNX Runtime's order: s = γ·(1/√(σ²+ε)), t = β − μ·s, so float32 runs round the way a
    /// deployment does. Computed once when the parameters are constants.
    static func batchNormCoefficients(_ context: NodeContext) throws(InterpreterError) -> BatchNormCoefficients {
        if try context.int("training_mode", 0) != 0 {
            throw context.unsupported("training_mode", "1 (only inference BatchNormalization runs here)")
        }
        let epsilon = Double(try context.float("epsilon", 1e-5))
        let parameters: [[Double]] = try (1...4).map { (index: Int) throws(InterpreterError) -> [Double] in try context.input(index).doubleValues }
        let channels = parameters[0].count
        guard parameters.allSatisfy({ $0.count == channels }) else {
            throw context.fail("scale, B, mean and var have different lengths \(parameters.map(\.count))")
        }
        func coefficients<T: InterpreterScalar>(_: T.Type) -> ([T], [T]) {
            let scale = (0..<channels).map { T(parameters[0][$0]) * (1 / (T(parameters[3][$0]) + T(epsilon)).squareRoot()) }
            let shift = (0..<channels).map { T(parameters[1][$0]) - T(parameters[2][$0]) * scale[$0] }
            return (scale, shift)
        }
        switch context.precision {
        case .float32:
            let (scale, shift) = coefficients(Float.self)
            return .float(scale: scale, shift: shift)
        case .float64:
            let (scale, shift) = coefficients(Double.self)
            return .double(scale: scale, shift: shift)
        }
    }

    /// Splits a shape at `axis` into (outer, axisSize, inner) element counts.
    static func split(_ shape: [Int], at axis: Int) -> (Int, Int, Int) {
        (shape[..<axis].reduce(1, *), shape[axis], shape[(axis + 1)...].reduce(1, *))
    }

    static func softmax(_ context: NodeContext) throws(InterpreterError) -> Buffer {
        let x = try context.input(0)
        let axis = try context.axis(try context.int("axis", context.opset >= 13 ? -1 : 1), rank: x.shape.count)
        // Before opset 13 the input is coerced to 2-D at `axis`: normalize over all trailing axes.
        let (outer, size, inner) = context.opset >= 13 ? split(x.shape, at: axis) : (x.shape[..<axis].reduce(1, *), x.shape[axis...].reduce(1, *), 1)
        func apply<T: InterpreterScalar>(_ v: [T]) -> [T] {
            // Lanes along the last axis are contiguous rows: CKernels' row loop (vectorized exp
            // in float32, partial sums in eight lanes).
            if inner == 1, size > 0, outer > 0 {
                return [T](filling: v.count) { out in
                    v.withUnsafeBufferPointer { T.softmaxRows(out.baseAddress!, $0.baseAddress!, rows: outer, size: size) }
                }
            }
            var out = v
            for o in 0..<outer {
                for i in 0..<inner {
                    var peak = -T.infinity
                    for s in 0..<size { peak = max(peak, v[(o * size + s) * inner + i]) }
                    var sum: T = 0
                    for s in 0..<size {
                        let e = T.exponential(v[(o * size + s) * inner + i] - peak)
                        out[(o * size + s) * inner + i] = e
                        sum += e
                    }
                    for s in 0..<size { out[(o * size + s) * inner + i] /= sum }
                }
            }
            return out
        }
        switch x.storage {
        case .float(let v): return Buffer(shape: x.shape, storage: .float(apply(v)))
        case .double(let v): return Buffer(shape: x.shape, storage: .double(apply(v)))
        default: throw context.fail("expects floating-point input")
        }
    }

    static func layerNorm(_ context: NodeContext) throws(InterpreterError) -> [Buffer] {
        let x = try context.input(0)
        let axis = try context.axis(try context.int("axis", -1), rank: x.shape.count)
        let epsilon = Double(try context.float("epsilon", 1e-5))
        let outer = x.shape[..<axis].reduce(1, *), size = x.shape[axis...].reduce(1, *)
        let scale = try context.input(1).doubleValues, bias = context.optionalInput(2)?.doubleValues
        guard scale.count == size || scale.count == 1 else { throw context.fail("scale has \(scale.count) values for \(size)") }
        if let bias, bias.count != size, bias.count != 1 { throw context.fail("bias has \(bias.count) values for \(size)") }
        /// y, and the optional Mean and InvStdDev outputs (shape: leading axes, then ones).
        /// Rows of `size` by CKernels' row loop: μ and σ² each from eight partial sums, then
        /// y = (x − μ)·r·γ + β with r = 1/√(σ² + ε).
        func apply<T: InterpreterScalar>(_ v: [T]) -> ([T], [T], [T]) {
            var means = [T](repeating: 0, count: outer), inverses = [T](repeating: 0, count: outer)
            guard size > 0, outer > 0 else { return (v, means, inverses) }
            let gamma = (0..<size).map { s in T(scale.count == 1 ? scale[0] : scale[s]) }
            let beta = (0..<size).map { s in T(bias.map { $0.count == 1 ? $0[0] : $0[s] } ?? 0) }
            let out = [T](filling: v.count) { y in
                v.withUnsafeBufferPointer { x in
                    means.withUnsafeMutableBufferPointer { m in
                        inverses.withUnsafeMutableBufferPointer { r in
                            T.layerNormRows(y.baseAddress!, mean: m.baseAddress!, inverse: r.baseAddress!, x.baseAddress!,
                                            scale: gamma, bias: beta, rows: outer, size: size, epsilon: T(epsilon))
                        }
                    }
                }
            }
            return (out, means, inverses)
        }
        let statisticsShape = Array(x.shape[..<axis]) + [Int](repeating: 1, count: x.shape.count - axis)
        switch x.storage {
        case .float(let v):
            let (y, m, i) = apply(v)
            return [Buffer(shape: x.shape, storage: .float(y)), Buffer(shape: statisticsShape, storage: .float(m)), Buffer(shape: statisticsShape, storage: .float(i))]
        case .double(let v):
            let (y, m, i) = apply(v)
            return [Buffer(shape: x.shape, storage: .double(y)), Buffer(shape: statisticsShape, storage: .double(m)), Buffer(shape: statisticsShape, storage: .double(i))]
        default: throw context.fail("expects floating-point input")
        }
    }
}
