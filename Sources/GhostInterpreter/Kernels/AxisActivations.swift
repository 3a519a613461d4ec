/// LogSoftmax and Hardmax: functions of each lane along one axis.
enum AxisActivations {
    /// The (outer, size, inner) split of the input: from opset 13 one axis (default −1); before,
    /// the input is coerced to 2-D at `axis` (default 1), so a lane runs over all trailing axes.
    static func lanes(_ context: NodeContext, _ shape: [Int]) throws(InterpreterError) -> (Int, Int, Int) {
        let axis = try context.axis(try context.int("axis", context.opset >= 13 ? -1 : 1), rank: shape.count)
        if context.opset >= 13 { return Normalization.split(shape, at: axis) }
        return (shape[..<axis].reduce(1, *), shape[axis...].reduce(1, *), 1)
    }

    static func logSoftmax(_ context: NodeContext) throws(InterpreterError) -> Buffer {
        let x = try context.input(0)
        let (outer, size, inner) = try lanes(context, x.shape)
        switch x.storage {
        case .float(let v): return Buffer(shape: x.shape, storage: .float(logSoftmax(v, outer: outer, size: size, inner: inner)))
        case .double(let v): return Buffer(shape: x.shape, storage: .double(logSoftmax(v, outer: outer, size: size, inner: inner)))
        default: throw context.fail("expects floating-point input, got \(x.typeName)")
        }
    }

    static func hardmax(_ context: NodeContext) throws(InterpreterError) -> Buffer {
        let x = try context.input(0)
        let (outer, size, inner) = try lanes(context, x.shape)
        switch x.storage {
        case .float(let v): return Buffer(shape: x.shape, storage: .float(hardmax(v, outer: outer, size: size, inner: inner)))
        case .double(let v): return Buffer(shape: x.shape, storage: .double(hardmax(v, outer: outer, size: size, inner: inner)))
        default: throw context.fail("expects floating-point input, got \(x.typeName)")
        }
    }

    /// y = x − m − log(Σ e^{x − m}) per lane, m the lane's maximum, in ONNX Runtime's order (its
    /// float kernel). A NaN or +inf in a lane makes the whole lane NaN, as does a lane of −inf.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func logSoftmax<T: ElementaryScalar>(_ values: [T], outer: Int, size: Int, inner: Int) -> [T] {
        [T](filling: values.count) { out in
            values.withUnsafeBufferPointer { x in
                for o in 0..<outer {
                    for i in 0..<inner {
                        let base = o * size * inner + i
                        var peak = -T.infinity
                        for s in 0..<size where x[base + s * inner] > peak { peak = x[base + s * inner] }
                        var sum: T = 0
                        for s in 0..<size { sum += T.exponential(x[base + s * inner] - peak) }
                        let logSum = T.libmLog(sum)
                        for s in 0..<size { out[base + s * inner] = x[base + s * inner] - peak - logSum }
                    }
                }
            }
        }
    }

    /// 1 at the first maximum of each lane, 0 elsewhere. As ONNX Runtime finds the maximum (a
    /// running `if x > m` from the lane's first element), NaNs after the first element are passed
    /// over and a lane starting with NaN is all zeros.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func hardmax<T: InterpreterScalar>(_ values: [T], outer: Int, size: Int, inner: Int) -> [T] {
        var out = [T](repeating: 0, count: values.count)
        guard size > 0 else { return out }
        values.withUnsafeBufferPointer { x in
            out.withUnsafeMutableBufferPointer { y in
                for o in 0..<outer {
                    for i in 0..<inner {
                        let base = o * size * inner + i
                        var peak = x[base], index = 0
                        guard !peak.isNaN else { continue }
                        for s in 1..<size where x[base + s * inner] > peak { (peak, index) = (x[base + s * inner], s) }
                        y[base + index * inner] = 1
                    }
                }
            }
        }
        return out
    }
}
