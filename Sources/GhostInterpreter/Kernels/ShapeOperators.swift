/// Operators that change only the shape, or only the order of elements: Reshape, Flatten,
/// Transpose, Squeeze, Unsqueeze, and Shape (which reads a shape as data).
enum ShapeOperators {
    /// Reshape: `0` copies the input's dimension (unless `allowzero`), one `-1` is inferred.
    static func reshape(_ context: NodeContext) throws(InterpreterError) -> Buffer {
        var x = try context.input(0)
        let requested = try context.input(1).int64Values.map { Int(clamping: $0) }
        let allowZero = try context.int("allowzero", 0) != 0
        func refuse(_ why: String) -> InterpreterError { context.fail("cannot reshape \(x.shape) to \(requested): \(why)") }
        var shape: [Int] = []
        for (axis, size) in requested.enumerated() {
            if size == 0, !allowZero {
                guard axis < x.shape.count else { throw refuse("0 at axis \(axis) copies a dimension the input does not have") }
                shape.append(x.shape[axis])
            } else {
                guard size >= -1 else { throw refuse("dimension \(size) is negative") }
                shape.append(size)
            }
        }
        let unknowns = shape.indices.filter { shape[$0] == -1 }
        guard unknowns.count <= 1 else { throw refuse("more than one dimension is -1") }
        if let unknown = unknowns.first {
            if allowZero, shape.contains(0) { throw refuse("-1 cannot be inferred next to a 0 with allowzero") }
            var known = shape
            known.remove(at: unknown)
            let product = try context.elementCount(of: known)
            guard product > 0, x.count % product == 0 else { throw refuse("\(x.count) elements do not divide into it") }
            shape[unknown] = x.count / product
        }
        guard try context.elementCount(of: shape) == x.count else { throw refuse("the element counts differ") }
        x.shape = shape
        return x
    }

    /// Flatten: a matrix of the dimensions before `axis` by those from it on.
    static func flatten(_ context: NodeContext) throws(InterpreterError) -> Buffer {
        var x = try context.input(0)
        let axis = try context.int("axis", 1)
        let split = axis < 0 ? axis + x.shape.count : axis
        guard split >= 0, split <= x.shape.count else { throw context.fail("axis \(axis) is out of range for rank \(x.shape.count)") }
        x.shape = [x.shape[..<split].reduce(1, *), x.shape[split...].reduce(1, *)]
        return x
    }

    static func transpose(_ context: NodeContext) throws(InterpreterError) -> Buffer {
        let x = try context.input(0)
        let rank = x.shape.count
        let permutation = try context.ints("perm") ?? Array((0..<rank).reversed())
        guard permutation.sorted() == Array(0..<rank) else { throw context.fail("perm \(permutation) is not a permutation of 0..<\(rank)") }
        let shape = permutation.map { x.shape[$0] }
        let inputStrides = contiguousStrides(x.shape)
        let strides = permutation.map { inputStrides[$0] }
        // Trailing output axes that are still contiguous in the source (the H×W planes of a
        // channel shuffle) move as blocks; only the axes before them are walked.
        var block = 1, kept = shape.count
        while kept > 0, strides[kept - 1] == block {
            block *= shape[kept - 1]
            kept -= 1
        }
        let storage = TransposeKernel.permute(x.storage, shape: Array(shape[..<kept]), strides: Array(strides[..<kept]), block: block)
        return Buffer(shape: shape, storage: storage, integerType: x.integerType)
    }

    /// Element strides of a C-order array of `shape`.
    static func contiguousStrides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var step = 1
        for axis in shape.indices.reversed() {
            strides[axis] = step
            step *= shape[axis]
        }
        return strides
    }

    /// Source offsets visited when walking `shape` in C order with the given source strides.
    static func walk(_ shape: [Int], _ strides: [Int], start: Int = 0) -> [Int] {
        let count = shape.reduce(1, *)
        var result = [Int]()
        result.reserveCapacity(count)
        guard count > 0 else { return result }
        var index = [Int](repeating: 0, count: shape.count)
        var offset = start
        for _ in 0..<count {
            result.append(offset)
            advance(&index, &offset, shape: shape, strides: strides, axes: shape.count)
        }
        return result
    }

    /// One step of a C-order odometer over the first `axes` axes of `shape` (the last of them
    /// fastest), carrying `offset` into a source whose axis d is `strides[d]` elements apart.
    /// After the last position the index is all zeros and the offset back where it started.
    @inline(__always)
    static func advance(_ index: inout [Int], _ offset: inout Int, shape: [Int], strides: [Int], axes: Int) {
        var axis = axes - 1
        while axis >= 0 {
            index[axis] += 1
            offset += strides[axis]
            if index[axis] < shape[axis] { break }
            offset -= strides[axis] * shape[axis]
            index[axis] = 0
            axis -= 1
        }
    }

    /// Axes from the attribute (before opset 13) or the optional second input (13 on).
    static func axes(_ context: NodeContext) throws(InterpreterError) -> [Int]? {
        if let attribute = try context.ints("axes") { return attribute }
        return context.optionalInput(1)?.int64Values.map { Int(clamping: $0) }
    }

    /// Squeeze: the listed axes (each of size 1), or every axis of size 1 when none are listed.
    static func squeeze(_ context: NodeContext) throws(InterpreterError) -> Buffer {
        var x = try context.input(0)
        let rank = x.shape.count
        var drop = Set<Int>()
        if let axes = try axes(context) {
            for axis in axes {
                let a = try context.axis(axis, rank: rank)
                guard x.shape[a] == 1 else { throw context.fail("cannot squeeze axis \(axis) of size \(x.shape[a])") }
                drop.insert(a)
            }
        } else {
            drop = Set(x.shape.indices.filter { x.shape[$0] == 1 })
        }
        x.shape = x.shape.enumerated().filter { !drop.contains($0.offset) }.map(\.element)
        return x
    }

    /// Unsqueeze: inserts axes of size 1; `axes` index the output's dimensions.
    static func unsqueeze(_ context: NodeContext) throws(InterpreterError) -> Buffer {
        var x = try context.input(0)
        guard let axes = try axes(context) else { throw context.fail("axes are missing") }
        let rank = x.shape.count + axes.count
        var inserted = Set<Int>()
        for axis in axes {
            guard inserted.insert(try context.axis(axis, rank: rank)).inserted else {
                throw context.fail("axes \(axes) name the same output axis twice")
            }
        }
        var shape: [Int] = []
        var source = x.shape.makeIterator()
        for axis in 0..<rank { shape.append(inserted.contains(axis) ? 1 : source.next() ?? 1) }
        x.shape = shape
        return x
    }

    /// Shape, optionally of the dimensions `start..<end` (opset 15; both clamp to 0...rank).
    static func shape(_ context: NodeContext) throws(InterpreterError) -> Buffer {
        let x = try context.input(0)
        let rank = x.shape.count
        func bound(_ value: Int) -> Int { min(max(value < 0 ? value + rank : value, 0), rank) }
        let start = bound(try context.int("start", 0)), end = bound(try context.int("end", rank))
        let dims = start < end ? Array(x.shape[start..<end]) : []
        return Buffer(shape: [dims.count], storage: .int64(dims.map { Int64($0) }))
    }
}
