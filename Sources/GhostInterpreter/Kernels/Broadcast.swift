import CKernels

/// Numpy-style broadcasting of two shapes, and elementwise combination over it.
enum Broadcast {
    /// The broadcast shape, or nil when the shapes are incompatible.
    static func shape(_ a: [Int], _ b: [Int]) -> [Int]? {
        let rank = max(a.count, b.count)
        var result = [Int](repeating: 1, count: rank)
        for axis in 0..<rank {
            let x = axis < rank - a.count ? 1 : a[axis - (rank - a.count)]
            let y = axis < rank - b.count ? 1 : b[axis - (rank - b.count)]
            guard x == y || x == 1 || y == 1 else { return nil }
            result[axis] = x == 1 ? y : x
        }
        return result
    }

    /// The element offset, in an operand with `strides` (from `strides(of:in:)`), of the
    /// C-order position `flat` of `shape`: the batch of a batched product that reads a broadcast
    /// operand.
    static func offset(_ flat: Int, in shape: [Int], strides: [Int]) -> Int {
        var remainder = flat, result = 0
        for axis in stride(from: shape.count - 1, through: 0, by: -1) {
            result += (remainder % shape[axis]) * strides[axis]
            remainder /= shape[axis]
        }
        return result
    }

    /// Element strides of `shape` aligned to `target`, 0 along broadcast axes.
    static func strides(of shape: [Int], in target: [Int]) -> [Int] {
        var strides = [Int](repeating: 0, count: target.count)
        var step = 1
        for axis in stride(from: shape.count - 1, through: 0, by: -1) {
            let targetAxis = axis + target.count - shape.count
            strides[targetAxis] = shape[axis] == 1 ? 0 : step
            step *= shape[axis]
        }
        return strides
    }

    /// One axis of an elementwise walk: its size and each operand's stride along it.
    struct Axis {
        var size: Int, a: Int, b: Int
    }

    /// The walk over `shape` with axes of size 1 dropped and neighbours merged wherever both
    /// operands step through them as one (both contiguous, or both broadcast): [N, C, H, W] ×
    /// [N, C, 1, 1] becomes [N·C] × [H·W] with the second operand's inner stride 0.
    static func axes(_ aShape: [Int], _ bShape: [Int], into shape: [Int]) -> [Axis] {
        let aStrides = strides(of: aShape, in: shape), bStrides = strides(of: bShape, in: shape)
        var merged: [Axis] = []
        for axis in shape.indices.reversed() where shape[axis] != 1 {
            let next = Axis(size: shape[axis], a: aStrides[axis], b: bStrides[axis])
            if var inner = merged.last, next.a == inner.a * inner.size, next.b == inner.b * inner.size {
                inner.size *= next.size
                merged[merged.count - 1] = inner
            } else {
                merged.append(next)
            }
        }
        return merged.reversed()
    }

    /// Calls `body(aOffset, bOffset, outOffset, run)` for each stretch of the innermost merged
    /// axis, in output order (an odometer over the outer axes). Per stretch, not per element, so
    /// the loops inside `body` stay tight.
    static func forEachRun(_ aShape: [Int], _ bShape: [Int], into shape: [Int], _ body: (Int, Int, Int, Axis) -> Void) {
        let count = shape.reduce(1, *)
        guard count > 0 else { return }
        let walk = axes(aShape, bShape, into: shape)
        let inner = walk.last ?? Axis(size: 1, a: 0, b: 0)
        let outer = Array(walk.dropLast())
        var index = [Int](repeating: 0, count: outer.count)
        var aOffset = 0, bOffset = 0, written = 0
        while written < count {
            body(aOffset, bOffset, written, inner)
            written += inner.size
            var axis = outer.count - 1
            while axis >= 0 {
                index[axis] += 1
                aOffset += outer[axis].a
                bOffset += outer[axis].b
                if index[axis] < outer[axis].size { break }
                aOffset -= outer[axis].a * outer[axis].size
                bOffset -= outer[axis].b * outer[axis].size
                index[axis] = 0
                axis -= 1
            }
        }
    }

    /// `C.combine(a[i], b[j])` over the broadcast of the two shapes. The operation is a type, so
    /// each (operation, element type) pair compiles to its own vectorizable loops.
    static func apply<C: Combination>(_ a: [C.Left], _ aShape: [Int], _ b: [C.Right], _ bShape: [Int], into shape: [Int],
                                      _ operation: C.Type) -> [C.Result] {
        let count = shape.reduce(1, *)
        return [C.Result](filling: count) { out in
            a.withUnsafeBufferPointer { pa in
                b.withUnsafeBufferPointer { pb in
                    forEachRun(aShape, bShape, into: shape) { aOffset, bOffset, outOffset, run in
                        let x = pa.baseAddress! + aOffset, y = pb.baseAddress! + bOffset, o = out.baseAddress! + outOffset
                        switch (run.a, run.b) {
                        case (1, 1): for i in 0..<run.size { (o + i).initialize(to: C.combine(x[i], y[i])) }
                        case (1, 0): let v = y[0]; for i in 0..<run.size { (o + i).initialize(to: C.combine(x[i], v)) }
                        case (0, 1): let v = x[0]; for i in 0..<run.size { (o + i).initialize(to: C.combine(v, y[i])) }
                        default: for i in 0..<run.size { (o + i).initialize(to: C.combine(x[i * run.a], y[i * run.b])) }
                        }
                    }
                }
            }
        }
    }

    /// Add, Sub, Mul or Div (`GK_BIN_*`) over the broadcast of the two shapes, one vectorized C loop
    /// (CKernels) per run. Along a run each operand is contiguous or one value: the run is the
    /// innermost axis of size > 1, and an operand's stride there is 1, or 0 where it broadcasts.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func arithmetic<T: InterpreterScalar>(_ a: [T], _ aShape: [Int], _ b: [T], _ bShape: [Int], into shape: [Int],
                                                  _ operation: Int32) -> [T] {
        let count = shape.reduce(1, *)
        return [T](filling: count) { out in
            a.withUnsafeBufferPointer { pa in
                b.withUnsafeBufferPointer { pb in
                    forEachRun(aShape, bShape, into: shape) { aOffset, bOffset, outOffset, run in
                        precondition(run.a <= 1 && run.b <= 1, "a run steps through its operands by 0 or 1")
                        T.binary(operation, out.baseAddress! + outOffset, pa.baseAddress! + aOffset, aStep: run.a,
                                 pb.baseAddress! + bOffset, bStep: run.b, run.size)
                    }
                }
            }
        }
    }

    /// `combine(a[i], b[j])` over the broadcast of the two shapes, for the rarer cases (integer
    /// shape arithmetic, Gemm's bias) where a closure's per-element call does not matter.
    static func apply<T, U, R>(_ a: [T], _ aShape: [Int], _ b: [U], _ bShape: [Int], into shape: [Int],
                               _ combine: (T, U) -> R) -> [R] {
        let count = shape.reduce(1, *)
        return [R](filling: count) { out in
            a.withUnsafeBufferPointer { pa in
                b.withUnsafeBufferPointer { pb in
                    forEachRun(aShape, bShape, into: shape) { aOffset, bOffset, outOffset, run in
                        for i in 0..<run.size {
                            out.initializeElement(at: outOffset + i, to: combine(pa[aOffset + i * run.a], pb[bOffset + i * run.b]))
                        }
                    }
                }
            }
        }
    }
}

/// An elementwise binary operation as a type (see `Broadcast.apply(_:_:_:_:into:_:)`).
protocol Combination {
    associatedtype Left
    associatedtype Right
    associatedtype Result
    static func combine(_ a: Left, _ b: Right) -> Result
}
