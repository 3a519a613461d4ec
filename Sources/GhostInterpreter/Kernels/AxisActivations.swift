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
        let last = inner > 1 ? x.shape.last ?? 1 : 1
        switch x.storage {
        case .float(let v): return Buffer(shape: x.shape, storage: .float(hardmax(v, outer: outer, size: size, inner: inner, last: last)))
        case .double(let v): return Buffer(shape: x.shape, storage: .double(hardmax(v, outer: outer, size: size, inner: inner, last: last)))
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

    /// 1 at the first element equal to the lane's maximum, 0 elsewhere (ties → first index).
    ///
    /// NaN: ONNX Runtime takes each lane's maximum with Eigen's vectorized `maxCoeff` and marks
    /// the first element equal to it, so which NaNs count depends on its reduction order. That
    /// order is reproduced (`eigenMaximum`; checked against ONNX Runtime 1.32 on random lanes with
    /// NaN and inf, both opset forms): a NaN survives only as the left operand of std::max, and a
    /// lane whose maximum comes out NaN is all zeros. Without NaN it is simply the first maximum.
    /// From opset 13 ONNX Runtime first swaps the axis with the last one into a fresh buffer and
    /// reduces its rows: `last` (the last axis' size, or 1 when the axis is last) gives each lane's
    /// row there, whose offset decides the alignment Eigen starts from.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func hardmax<T: InterpreterScalar>(_ values: [T], outer: Int, size: Int, inner: Int, last: Int) -> [T] {
        var out = [T](repeating: 0, count: values.count)
        // No lanes (outer 0): no lane buffer either, whose size is the axis' (up to the limit).
        guard outer > 0, size > 0, inner > 0, last > 0 else { return out }
        let middle = inner / last
        var lane = [T](repeating: 0, count: size)
        values.withUnsafeBufferPointer { x in
            out.withUnsafeMutableBufferPointer { y in
                for o in 0..<outer {
                    for i in 0..<inner {
                        let base = o * size * inner + i
                        for s in 0..<size { lane[s] = x[base + s * inner] }
                        // i = m·last + l in the input; the swapped buffer orders rows (l, m).
                        let row = o * inner + (i % last) * middle + i / last
                        let peak = eigenMaximum(lane, start: row * size)
                        if let index = lane.firstIndex(of: peak) { y[base + index * inner] = 1 }
                    }
                }
            }
        }
        return out
    }

    /// std::max(a, b) = a < b ? b : a, which is also what Eigen's SSE `pmax` computes per lane.
    @inline(__always)
    private static func eigenMax<T: BinaryFloatingPoint>(_ a: T, _ b: T) -> T { a < b ? b : a }

    /// Eigen's `maxCoeff` of a contiguous row that starts `start` elements into a 16-byte-aligned
    /// float buffer, in its order: elements from the first aligned one in packets of four, two
    /// accumulators, then the horizontal reduction ((0, 2), (1, 3)), then the unaligned head and
    /// the tail one by one; a row with less than one aligned packet is folded from its start.
    static func eigenMaximum<T: BinaryFloatingPoint>(_ x: [T], start: Int) -> T {
        let size = x.count, width = 4
        let head = min((width - start % width) % width, size)
        let aligned = (size - head) / width * width, paired = (size - head) / (2 * width) * (2 * width)
        guard aligned > 0 else {
            var result = x[0]
            for index in 1..<size { result = eigenMax(result, x[index]) }
            return result
        }
        var first = (x[head], x[head + 1], x[head + 2], x[head + 3])
        if aligned > width {
            var second = (x[head + 4], x[head + 5], x[head + 6], x[head + 7])
            var index = head + 2 * width
            while index < head + paired {
                first = (eigenMax(first.0, x[index]), eigenMax(first.1, x[index + 1]), eigenMax(first.2, x[index + 2]), eigenMax(first.3, x[index + 3]))
                second = (eigenMax(second.0, x[index + 4]), eigenMax(second.1, x[index + 5]), eigenMax(second.2, x[index + 6]),
                          eigenMax(second.3, x[index + 7]))
                index += 2 * width
            }
            first = (eigenMax(first.0, second.0), eigenMax(first.1, second.1), eigenMax(first.2, second.2), eigenMax(first.3, second.3))
            if aligned > paired {
                let p = head + paired
                first = (eigenMax(first.0, x[p]), eigenMax(first.1, x[p + 1]), eigenMax(first.2, x[p + 2]), eigenMax(first.3, x[p + 3]))
            }
        }
        var result = eigenMax(eigenMax(first.0, first.2), eigenMax(first.1, first.3))
        for index in 0..<head { result = eigenMax(result, x[index]) }
        for index in (head + aligned)..<size { result = eigenMax(result, x[index]) }
        return result
    }
}
