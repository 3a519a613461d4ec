/// An operation that moves or fills elements without computing with them, written once for
/// every element type: `zero` is the type's 0 (false for bool).
protocol ElementMover {
    func callAsFunction<T>(_ values: [T], zero: T) -> [T]
}

extension Buffer.Storage {
    /// The storage `mover` makes of this one's elements, of the same element type.
    func moved<M: ElementMover>(by mover: M) -> Buffer.Storage {
        switch self {
        case .float(let v): .float(mover(v, zero: 0))
        case .double(let v): .double(mover(v, zero: 0))
        case .int64(let v): .int64(mover(v, zero: 0))
        case .bool(let v): .bool(mover(v, zero: false))
        }
    }
}

/// Expand, Tile, Range, Trilu, EyeLike and OneHot: operators that make tensors of a shape computed
/// from their inputs. Any element type.
enum Generation {
    /// out (C order over `shape`)[index] = source[Σ index_d · strides_d]. Axes are merged where
    /// they step through the source as one; the innermost is one copy (stride 1) or one fill
    /// (stride 0), and an outer axis of stride 0 repeats the block already written by copying it,
    /// so a broadcast feature map moves as whole rows or planes.
    struct StridedCopy: ElementMover {
        var axes: [(size: Int, stride: Int)] = []
        let count: Int

        init(shape: [Int], strides: [Int]) {
            // An empty view copies nothing; its other axes may be as large as a repeat count
            // (Tile of an empty axis 2⁶² times), so their product is never formed.
            guard !shape.contains(0) else {
                count = 0
                return
            }
            count = shape.reduce(1, *)
            for axis in shape.indices where shape[axis] != 1 {
                if let outer = axes.last, outer.stride == strides[axis] * shape[axis] {
                    axes[axes.count - 1] = (outer.size * shape[axis], strides[axis])
                } else {
                    axes.append((shape[axis], strides[axis]))
                }
            }
        }

        func callAsFunction<T>(_ values: [T], zero: T) -> [T] {
            guard count > 0 else { return [] }
            guard !axes.isEmpty else { return [values[0]] }
            var blocks = [Int](repeating: 1, count: axes.count)
            for level in stride(from: axes.count - 2, through: 0, by: -1) { blocks[level] = blocks[level + 1] * axes[level + 1].size }
            let axes = self.axes
            return [T](filling: count) { out in
                values.withUnsafeBufferPointer { source in
                    func fill(_ level: Int, _ from: UnsafePointer<T>, _ to: UnsafeMutablePointer<T>) {
                        let (size, step) = axes[level]
                        if level == axes.count - 1 {
                            switch step {
                            case 1: to.initialize(from: from, count: size)
                            case 0: to.initialize(repeating: from.pointee, count: size)
                            default: for i in 0..<size { (to + i).initialize(to: from[i * step]) }
                            }
                            return
                        }
                        let block = blocks[level]
                        if step == 0 {
                            fill(level + 1, from, to)
                            for i in 1..<size { (to + i * block).initialize(from: to, count: block) }
                        } else {
                            for i in 0..<size { fill(level + 1, from + i * step, to + i * block) }
                        }
                    }
                    fill(0, source.baseAddress!, out.baseAddress!)
                }
            }
        }
    }

    /// A 1-D integer input read as sizes (Expand's shape, Tile's repeats).
    static func sizes(_ buffer: Buffer, _ what: String, _ context: NodeContext) throws(InterpreterError) -> [Int] {
        guard buffer.shape.count == 1, !buffer.isFloatingPoint else {
            throw context.fail("\(what) must be a 1-D integer tensor, got \(buffer.typeName) \(buffer.shape)")
        }
        return buffer.int64Values.map { Int(clamping: $0) }
    }

    /// Expand: the input broadcast with `shape` in both directions (numpy rules), so the output
    /// has the broadcast of the two shapes.
    static func expand(_ context: NodeContext) throws(InterpreterError) -> Buffer {
        let x = try context.input(0)
        let requested = try sizes(try context.input(1), "shape", context)
        guard requested.allSatisfy({ $0 >= 0 }), let shape = Broadcast.shape(x.shape, requested) else {
            throw context.fail("input shape \(x.shape) cannot be expanded to \(requested)")
        }
        _ = try context.elementCount(of: shape)
        if shape == x.shape { return x }
        let copy = StridedCopy(shape: shape, strides: Broadcast.strides(of: x.shape, in: shape))
        return Buffer(shape: shape, storage: x.storage.moved(by: copy), integerType: x.integerType)
    }

    /// Tile: out[i_d] = x[i_d mod size_d], each axis `repeats_d` times as long. Read as x viewed
    /// as [1, d0, 1, d1, …] expanded to [r0, d0, r1, d1, …], whose C order is Tile's.
    static func tile(_ context: NodeContext) throws(InterpreterError) -> Buffer {
        let x = try context.input(0)
        let repeats = try sizes(try context.input(1), "repeats", context)
        guard repeats.count == x.shape.count else {
            throw context.fail("repeats \(repeats) must have one entry per input axis (rank \(x.shape.count))")
        }
        guard repeats.allSatisfy({ $0 >= 0 }) else { throw context.fail("repeats \(repeats) must not be negative") }
        var shape: [Int] = []
        for (size, times) in zip(x.shape, repeats) {
            let (product, overflow) = size.multipliedReportingOverflow(by: times)
            guard !overflow else { throw .tensorTooLarge(node: context.name, op: context.op, shape: x.shape, limit: Interpreter.maximumElementCount) }
            shape.append(product)
        }
        _ = try context.elementCount(of: shape)
        if shape == x.shape { return x }
        let strides = ShapeOperators.contiguousStrides(x.shape)
        var viewShape: [Int] = [], viewStrides: [Int] = []
        for axis in x.shape.indices {
            viewShape += [repeats[axis], x.shape[axis]]
            viewStrides += [0, strides[axis]]
        }
        let copy = StridedCopy(shape: viewShape, strides: viewStrides)
        return Buffer(shape: shape, storage: x.storage.moved(by: copy), integerType: x.integerType)
    }

    /// Range: start, start + δ, start + 2δ, … (accumulated, as ONNX Runtime does), ⌈(limit − start)/δ⌉
    /// elements (none when that is negative). Floats in the run's precision; integers keep their type.
    static func range(_ context: NodeContext) throws(InterpreterError) -> Buffer {
        let start = try context.input(0), limit = try context.input(1), delta = try context.input(2)
        for (buffer, what) in [(start, "start"), (limit, "limit"), (delta, "delta")] {
            guard buffer.count == 1 else { throw context.fail("\(what) must be a scalar, got shape \(buffer.shape)") }
            guard buffer.typeName == start.typeName else {
                throw context.fail("start, limit and delta have different types (\(start.typeName), \(limit.typeName), \(delta.typeName))")
            }
        }
        let storage: Buffer.Storage
        switch (start.storage, limit.storage, delta.storage) {
        case (.float(let s), .float(let l), .float(let d)): storage = .float(try floatRange(s[0], l[0], d[0], context))
        case (.double(let s), .double(let l), .double(let d)): storage = .double(try floatRange(s[0], l[0], d[0], context))
        case (.int64(let s), .int64(let l), .int64(let d)): storage = .int64(try integerRange(s[0], l[0], d[0], context))
        default: throw context.fail("Range is not defined for \(start.typeName)")
        }
        return Buffer(shape: [storage.count], storage: storage, integerType: start.integerType)
    }

    private static func floatRange<T: InterpreterScalar>(_ start: T, _ limit: T, _ delta: T, _ context: NodeContext) throws(InterpreterError) -> [T] {
        guard delta != 0 else { throw context.fail("delta is 0") }
        let steps = (Double(limit - start) / Double(delta)).rounded(.up)
        guard !steps.isNaN else { throw context.fail("the number of elements (limit − start)/delta is NaN") }
        let count = try checkedCount(steps, context)
        var values = [T]()
        values.reserveCapacity(count)
        var value = start
        for _ in 0..<count {
            values.append(value)
            value += delta
        }
        return values
    }

    private static func integerRange(_ start: Int64, _ limit: Int64, _ delta: Int64, _ context: NodeContext) throws(InterpreterError) -> [Int64] {
        guard delta != 0 else { throw context.fail("delta is 0") }
        let count: Int
        let (difference, overflow) = limit.subtractingReportingOverflow(start)
        if overflow {
            count = try checkedCount((Double(limit) - Double(start)) / Double(delta), context)
        } else {
            // Int64.min / −1 is the one quotient that overflows: 2^63 elements, far too many.
            let (quotient, tooMany) = difference.dividedReportingOverflow(by: delta)
            let roundsUp = !tooMany && difference % delta != 0 && (difference > 0) == (delta > 0)
            count = try checkedCount(tooMany ? 0x1p63 : Double(quotient) + (roundsUp ? 1 : 0), context)
        }
        var values = [Int64]()
        values.reserveCapacity(count)
        var value = start
        for _ in 0..<count {
            values.append(value)
            value = value &+ delta
        }
        return values
    }

    /// A count computed from data, as a size the interpreter may allocate (0 when negative).
    private static func checkedCount(_ steps: Double, _ context: NodeContext) throws(InterpreterError) -> Int {
        guard steps > 0 else { return 0 }
        guard steps <= Double(Interpreter.maximumElementCount) else {
            throw .tensorTooLarge(node: context.name, op: context.op, shape: [steps < 0x1p62 ? Int(steps) : Int.max],
                                  limit: Interpreter.maximumElementCount)
        }
        return try context.elementCount(of: [Int(steps)])
    }
}
