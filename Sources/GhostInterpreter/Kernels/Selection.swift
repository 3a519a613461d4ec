import GhostIR

/// Where(condition, X, Y): X where the condition is true, else Y, the three broadcast together
/// (numpy rules). The condition must be bool; X and Y share one type, which the output keeps.
enum Selection {
    static func `where`(_ context: NodeContext) throws(InterpreterError) -> Buffer {
        let c = try context.input(0), x = try context.input(1), y = try context.input(2)
        guard case .bool(let condition) = c.storage else { throw context.fail("condition must be bool, got \(c.typeName)") }
        guard x.typeName == y.typeName else { throw context.fail("X is \(x.typeName) but Y is \(y.typeName)") }
        guard let xy = Broadcast.shape(x.shape, y.shape), let shape = Broadcast.shape(c.shape, xy) else {
            throw context.fail("shapes \(c.shape), \(x.shape) and \(y.shape) do not broadcast")
        }
        _ = try context.elementCount(of: shape)
        let shapes = (c.shape, x.shape, y.shape)
        let storage: Buffer.Storage
        switch (x.storage, y.storage) {
        case (.float(let a), .float(let b)): storage = .float(select(condition, a, b, shapes, shape))
        case (.double(let a), .double(let b)): storage = .double(select(condition, a, b, shapes, shape))
        case (.int64(let a), .int64(let b)): storage = .int64(select(condition, a, b, shapes, shape))
        case (.bool(let a), .bool(let b)): storage = .bool(select(condition, a, b, shapes, shape))
        default: throw context.fail("X is \(x.typeName) but Y is \(y.typeName)")
        }
        return Buffer(shape: shape, storage: storage, integerType: x.integerType)
    }

    @_specialize(where E == Float)
    @_specialize(where E == Double)
    @_specialize(where E == Int64)
    @_specialize(where E == Bool)
    static func select<E>(_ condition: [Bool], _ a: [E], _ b: [E], _ shapes: ([Int], [Int], [Int]), _ shape: [Int]) -> [E] {
        [E](filling: shape.reduce(1, *)) { out in
            condition.withUnsafeBufferPointer { pc in
                a.withUnsafeBufferPointer { pa in
                    b.withUnsafeBufferPointer { pb in
                        forEachRun(shapes, into: shape) { offsets, outOffset, run in
                            let c = pc.baseAddress! + offsets.0, x = pa.baseAddress! + offsets.1, y = pb.baseAddress! + offsets.2
                            let o = out.baseAddress! + outOffset
                            if run.steps == (1, 1, 1) {
                                for i in 0..<run.size { (o + i).initialize(to: c[i] ? x[i] : y[i]) }
                            } else {
                                let (cs, xs, ys) = run.steps
                                for i in 0..<run.size { (o + i).initialize(to: c[i * cs] ? x[i * xs] : y[i * ys]) }
                            }
                        }
                    }
                }
            }
        }
    }

    /// One axis of a three-operand walk: its size and each operand's stride along it.
    struct Run {
        var size: Int
        var steps: (Int, Int, Int)
    }

    /// Calls `body(offsets, outOffset, run)` for each stretch of the innermost merged axis of the
    /// broadcast of three shapes, in output order: `Broadcast.forEachRun` for three operands
    /// (axes of size 1 dropped, neighbours merged where every operand steps through them as one).
    static func forEachRun(_ shapes: ([Int], [Int], [Int]), into shape: [Int], _ body: ((Int, Int, Int), Int, Run) -> Void) {
        let count = shape.reduce(1, *)
        guard count > 0 else { return }
        let s0 = Broadcast.strides(of: shapes.0, in: shape), s1 = Broadcast.strides(of: shapes.1, in: shape)
        let s2 = Broadcast.strides(of: shapes.2, in: shape)
        var merged: [Run] = []
        for axis in shape.indices.reversed() where shape[axis] != 1 {
            let next = Run(size: shape[axis], steps: (s0[axis], s1[axis], s2[axis]))
            if var inner = merged.last, next.steps.0 == inner.steps.0 * inner.size, next.steps.1 == inner.steps.1 * inner.size,
               next.steps.2 == inner.steps.2 * inner.size {
                inner.size *= next.size
                merged[merged.count - 1] = inner
            } else {
                merged.append(next)
            }
        }
        merged.reverse()
        let inner = merged.last ?? Run(size: 1, steps: (0, 0, 0))
        let outer = Array(merged.dropLast())
        var index = [Int](repeating: 0, count: outer.count)
        var offsets = (0, 0, 0), written = 0
        while written < count {
            body(offsets, written, inner)
            written += inner.size
            var axis = outer.count - 1
            while axis >= 0 {
                index[axis] += 1
                let steps = outer[axis].steps
                offsets = (offsets.0 + steps.0, offsets.1 + steps.1, offsets.2 + steps.2)
                if index[axis] < outer[axis].size { break }
                let size = outer[axis].size
                offsets = (offsets.0 - steps.0 * size, offsets.1 - steps.1 * size, offsets.2 - steps.2 * size)
                index[axis] = 0
                axis -= 1
            }
        }
    }
}
