/// ArgMax and ArgMin: the int64 index along `axis` of the largest (smallest) element.
///
/// The scan keeps its running best unless an element is strictly beyond it (or, with
/// `select_last_index`, beyond or equal), so ties give the first (last) index, a NaN as the first
/// element wins and a later NaN is passed over — ONNX Runtime's rule.
enum ArgReduction {
    static func evaluate(_ context: NodeContext, maximum: Bool) throws(InterpreterError) -> Buffer {
        let x = try context.input(0)
        let rank = x.shape.count
        let axis = try context.axis(try context.int("axis", 0), rank: max(rank, 1))
        let keep = try context.int("keepdims", 1) != 0
        let last = context.opset >= 12 ? try context.int("select_last_index", 0) != 0 : false
        let shape = rank == 0 ? [1] : x.shape
        let (outer, count, inner) = Reduction.split(shape, at: axis)
        guard count > 0 else { throw context.fail("cannot take \(context.op) over an empty axis \(axis) of \(x.shape)") }
        var outShape = shape
        if keep { outShape[axis] = 1 } else { outShape.remove(at: axis) }
        if rank == 0 { outShape = [] }
        let indices: [Int64]
        switch x.storage {
        case .float(let v): indices = scan(v, outer, count, inner, maximum: maximum, last: last)
        case .double(let v): indices = scan(v, outer, count, inner, maximum: maximum, last: last)
        case .int64(let v): indices = scan(Reduction.orderKeys(v, x.integerType), outer, count, inner, maximum: maximum, last: last)
        case .bool: throw context.fail("expects a numeric input, got bool")
        }
        return Buffer(shape: outShape, storage: .int64(indices))
    }

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    @_specialize(where T == Int64)
    static func scan<T: ReducibleScalar>(_ x: [T], _ outer: Int, _ count: Int, _ inner: Int, maximum: Bool, last: Bool) -> [Int64] {
        // a replaces the running best b: strictly beyond it, or also when equal with `last`.
        @inline(__always) func replaces(_ a: T, _ b: T) -> Bool {
            let beyond = maximum ? T.isGreater(a, b) : T.isGreater(b, a)
            return beyond || (last && a == b)
        }
        var result = [Int64](repeating: 0, count: outer * inner)
        x.withUnsafeBufferPointer { v in
            var best = [T](repeating: T.zero, count: inner)
            for block in 0..<outer {
                let base = block * count * inner
                for j in 0..<inner { best[j] = v[base + j] }
                for step in 1..<count {
                    let row = base + step * inner
                    for j in 0..<inner where replaces(v[row + j], best[j]) {
                        best[j] = v[row + j]
                        result[block * inner + j] = Int64(step)
                    }
                }
            }
        }
        return result
    }
}
