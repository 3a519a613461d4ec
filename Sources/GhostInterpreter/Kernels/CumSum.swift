/// CumSum along an axis given as a tensor: y[i] = Σ x[j] over j ≤ i (j < i with `exclusive`;
/// j ≥ i, j > i with `reverse`), summed in order of the scan, for floats and integers.
enum CumulativeSum {
    static func evaluate(_ context: NodeContext) throws(InterpreterError) -> Buffer {
        let x = try context.input(0), axisTensor = try context.input(1)
        guard case .int64 = axisTensor.storage, axisTensor.count == 1, axisTensor.shape.count <= 1 else {
            throw context.fail("axis must be an integer scalar or 1-element tensor, got \(axisTensor.typeName) \(axisTensor.shape)")
        }
        guard !x.shape.isEmpty else { throw context.fail("expects an input of rank ≥ 1, got a scalar") }
        let axis = try context.axis(Int(clamping: axisTensor.int64Values[0]), rank: x.shape.count)
        let exclusive = try context.int("exclusive", 0) != 0, reverse = try context.int("reverse", 0) != 0
        let (outer, count, inner) = Reduction.split(x.shape, at: axis)
        func run<T: ReducibleScalar>(_ v: [T]) -> [T] {
            scan(v, outer, count, inner, exclusive: exclusive, reverse: reverse)
        }
        switch x.storage {
        case .float(let v): return Buffer(shape: x.shape, storage: .float(run(v)))
        case .double(let v): return Buffer(shape: x.shape, storage: .double(run(v)))
        case .int64(let v): return Buffer(shape: x.shape, storage: .int64(run(v)), integerType: x.integerType)
        case .bool: throw context.fail("expects a numeric input, got bool")
        }
    }

    /// Rows of `inner` contiguous elements are added into the running row, so the inner loop is
    /// over contiguous memory.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    @_specialize(where T == Int64)
    static func scan<T: ReducibleScalar>(_ x: [T], _ outer: Int, _ count: Int, _ inner: Int, exclusive: Bool, reverse: Bool) -> [T] {
        var out = [T](repeating: T.zero, count: x.count)
        guard count > 0, inner > 0 else { return out }
        x.withUnsafeBufferPointer { source in
            out.withUnsafeMutableBufferPointer { destination in
                guard let src = source.baseAddress, let dst = destination.baseAddress else { return }
                for block in 0..<outer {
                    let base = block * count * inner
                    var previous = reverse ? count - 1 : 0
                    if !exclusive { (dst + base + previous * inner).update(from: src + base + previous * inner, count: inner) }
                    for n in 1..<count {
                        let step = reverse ? count - 1 - n : n
                        let row = dst + base + step * inner, before = dst + base + previous * inner
                        let added = src + base + (exclusive ? previous : step) * inner
                        for j in 0..<inner { row[j] = T.add(before[j], added[j]) }
                        previous = step
                    }
                }
            }
        }
        return out
    }
}
