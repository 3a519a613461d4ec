/// ReduceMean over any set of axes.
enum Reduction {
    static func reduceMean(_ context: NodeContext) throws(InterpreterError) -> Buffer {
        let x = try context.input(0)
        let rank = x.shape.count
        // The axes are an attribute before opset 18 and an optional input from 18 on.
        var axes: [Int]? = try context.ints("axes")
        if context.opset >= 18, let given = context.optionalInput(1) { axes = given.int64Values.map { Int(clamping: $0) } }
        let keep = try context.int("keepdims", 1) != 0
        if axes == nil || axes?.isEmpty == true {
            if try context.int("noop_with_empty_axes", 0) != 0 { return x }
            axes = Array(0..<rank)
        }
        var reduced = Set<Int>()
        for axis in axes ?? [] { reduced.insert(try context.axis(axis, rank: rank)) }
        let outShape = x.shape.enumerated().map { reduced.contains($0.offset) ? 1 : $0.element }
        let finalShape = keep ? outShape : x.shape.enumerated().filter { !reduced.contains($0.offset) }.map(\.element)
        let divisor = reduced.reduce(1) { $0 * x.shape[$1] }
        let outStrides = Broadcast.strides(of: outShape, in: x.shape)
        // Reducing trailing axes (global pooling written as ReduceMean): sum contiguous blocks.
        let trailing = !reduced.isEmpty && reduced == Set((rank - reduced.count)..<rank)
        func apply<T: InterpreterScalar>(_ v: [T]) -> [T] {
            // The mean of no elements, as numpy has it.
            if divisor == 0 { return [T](repeating: .nan, count: outShape.reduce(1, *)) }
            if trailing {
                return Reduction.blockMeans(v, block: divisor)
            }
            var out = [T](repeating: 0, count: outShape.reduce(1, *))
            var index = [Int](repeating: 0, count: rank)
            for value in v {
                var target = 0
                for axis in 0..<rank { target += index[axis] * outStrides[axis] }
                out[target] += value
                var axis = rank - 1
                while axis >= 0 {
                    index[axis] += 1
                    if index[axis] < x.shape[axis] { break }
                    index[axis] = 0
                    axis -= 1
                }
            }
            return out.map { $0 / T(max(divisor, 1)) }
        }
        switch x.storage {
        case .float(let v): return Buffer(shape: finalShape, storage: .float(apply(v)))
        case .double(let v): return Buffer(shape: finalShape, storage: .double(apply(v)))
        default: throw context.fail("expects floating-point input")
        }
    }

    /// The mean of each consecutive `block` elements (block ≥ 1), summed in four interleaved
    /// partial sums so the loop vectorizes (the order differs from a serial sum only in rounding).
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func blockMeans<T: InterpreterScalar>(_ values: [T], block: Int) -> [T] {
        let blocks = values.count / block
        return [T](filling: blocks) { out in
            values.withUnsafeBufferPointer { v in
                for b in 0..<blocks {
                    let start = v.baseAddress! + b * block
                    var (s0, s1, s2, s3): (T, T, T, T) = (0, 0, 0, 0)
                    var i = 0
                    while i + 4 <= block {
                        s0 += start[i]; s1 += start[i + 1]; s2 += start[i + 2]; s3 += start[i + 3]
                        i += 4
                    }
                    while i < block { s0 += start[i]; i += 1 }
                    out.initializeElement(at: b, to: ((s0 + s1) + (s2 + s3)) / T(block))
                }
            }
        }
    }
}
