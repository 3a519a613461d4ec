/// Operators that copy blocks of elements: Concat, Split, Slice and Gather. Any element type.
enum DataMovement {
    static func concat(_ context: NodeContext) throws(InterpreterError) -> Buffer {
        let parts = context.inputs.compactMap { $0 }
        guard let first = parts.first else { throw context.fail("no inputs") }
        let axis = try context.axis(try context.int("axis", 0), rank: first.shape.count)
        for part in parts {
            guard part.shape.count == first.shape.count,
                  part.shape.indices.allSatisfy({ $0 == axis || part.shape[$0] == first.shape[$0] }) else {
                throw context.fail("shapes \(parts.map(\.shape)) do not concatenate along axis \(axis)")
            }
        }
        let outer = first.shape[..<axis].reduce(1, *), inner = first.shape[(axis + 1)...].reduce(1, *)
        var shape = first.shape
        shape[axis] = parts.reduce(0) { $0 + $1.shape[axis] }
        _ = try context.elementCount(of: shape)
        // Output block o is part 0's block o, then part 1's block o, …: copy whole blocks.
        func interleave<T>(_ arrays: [[T]]) -> [T] {
            let total = arrays.reduce(0) { $0 + $1.count }
            return [T](filling: total) { out in
                var written = 0
                for o in 0..<outer {
                    for (p, array) in arrays.enumerated() {
                        let block = parts[p].shape[axis] * inner
                        array.withUnsafeBufferPointer { source in
                            guard block > 0 else { return }
                            (out.baseAddress! + written).initialize(from: source.baseAddress! + o * block, count: block)
                        }
                        written += block
                    }
                }
            }
        }
        func mismatch() -> InterpreterError { context.fail("inputs have different element types (\(parts.map(\.typeName)))") }
        let storage: Buffer.Storage
        switch first.storage {
        case .float: storage = .float(interleave(try parts.map { (part) throws(InterpreterError) -> [Float] in
            guard case .float(let v) = part.storage else { throw mismatch() }
            return v
        }))
        case .double: storage = .double(interleave(try parts.map { (part) throws(InterpreterError) -> [Double] in
            guard case .double(let v) = part.storage else { throw mismatch() }
            return v
        }))
        case .int64: storage = .int64(interleave(try parts.map { (part) throws(InterpreterError) -> [Int64] in
            guard case .int64(let v) = part.storage else { throw mismatch() }
            return v
        }))
        case .bool: storage = .bool(interleave(try parts.map { (part) throws(InterpreterError) -> [Bool] in
            guard case .bool(let v) = part.storage else { throw mismatch() }
            return v
        }))
        }
        return Buffer(shape: shape, storage: storage, integerType: first.integerType)
    }

    /// Split sizes from the `split` attribute (before opset 13), the second input (13 on), or
    /// `num_outputs` / the output count (equal parts, the last one smaller when uneven).
    static func split(_ context: NodeContext) throws(InterpreterError) -> [Buffer] {
        let x = try context.input(0)
        let axis = try context.axis(try context.int("axis", 0), rank: x.shape.count)
        let size = x.shape[axis]
        var sizes = try context.ints("split") ?? context.optionalInput(1)?.int64Values.map { Int(clamping: $0) }
        if sizes == nil {
            let parts = try context.int("num_outputs", context.node.outputs.count)
            // One size per output: a num_outputs other than the node's output count is malformed
            // (and a huge one would make a huge list of sizes).
            guard parts >= 1, parts == context.node.outputs.count else {
                throw context.fail("num_outputs \(parts) must be the node's output count \(context.node.outputs.count)")
            }
            let chunk = (size + parts - 1) / parts
            sizes = (0..<parts).map { min(chunk, max(size - $0 * chunk, 0)) }
        }
        guard let sizes, sizes.allSatisfy({ $0 >= 0 && $0 <= size }), sizes.reduce(0, +) == size else {
            throw context.fail("split sizes \(sizes ?? []) do not add up to \(size)")
        }
        var start = 0
        var result: [Buffer] = []
        for part in sizes {
            result.append(try slice(x, axes: [axis], starts: [start], ends: [start + part], steps: [1], context))
            start += part
        }
        return result
    }

    /// Slice: `starts`/`ends`/`axes` attributes before opset 10, inputs (with `steps`) after.
    static func slice(_ context: NodeContext) throws(InterpreterError) -> Buffer {
        let x = try context.input(0)
        let starts: [Int], ends: [Int], axes: [Int], steps: [Int]
        if context.opset < 10 {
            starts = try context.ints("starts") ?? []
            ends = try context.ints("ends") ?? []
            axes = try context.ints("axes") ?? Array(0..<starts.count)
            steps = [Int](repeating: 1, count: starts.count)
        } else {
            starts = try context.input(1).int64Values.map { Int(clamping: $0) }
            ends = try context.input(2).int64Values.map { Int(clamping: $0) }
            axes = context.optionalInput(3)?.int64Values.map { Int(clamping: $0) } ?? Array(0..<starts.count)
            steps = context.optionalInput(4)?.int64Values.map { Int(clamping: $0) } ?? [Int](repeating: 1, count: starts.count)
        }
        guard starts.count == ends.count, axes.count == starts.count, steps.count == starts.count else {
            throw context.fail("starts, ends, axes and steps have different lengths")
        }
        return try slice(x, axes: axes, starts: starts, ends: ends, steps: steps, context)
    }

    /// The ONNX slice rules: negative starts/ends count from the end, then clamp to the axis
    /// (to −1…size−1 for negative steps, so a slice can run down to element 0).
    static func slice(_ x: Buffer, axes: [Int], starts: [Int], ends: [Int], steps: [Int], _ context: NodeContext) throws(InterpreterError) -> Buffer {
        let rank = x.shape.count
        var begin = [Int](repeating: 0, count: rank), step = [Int](repeating: 1, count: rank), shape = x.shape
        var seen = Set<Int>()
        for (i, rawAxis) in axes.enumerated() {
            let axis = try context.axis(rawAxis, rank: rank)
            guard seen.insert(axis).inserted else { throw context.fail("axes \(axes) repeat axis \(axis)") }
            let size = x.shape[axis], s = steps[i]
            guard s != 0 else { throw context.fail("slice step is 0") }
            guard s != .min else { throw context.fail("slice step \(s) is out of range") }
            func clamp(_ value: Int, _ low: Int, _ high: Int) -> Int { min(max(value, low), high) }
            var first = starts[i] < 0 ? starts[i] &+ size : starts[i]
            var last = ends[i] < 0 ? ends[i] &+ size : ends[i]
            if s > 0 {
                first = clamp(first, 0, size)
                last = clamp(last, 0, size)
                shape[axis] = last > first ? (last - first - 1) / s + 1 : 0
            } else {
                first = clamp(first, -1, size - 1)
                last = clamp(last, -1, size - 1)
                shape[axis] = first > last ? (first - last - 1) / -s + 1 : 0
            }
            begin[axis] = first
            // One element taken: its step is irrelevant, and a huge one (Int64.max − 1) would
            // overflow stride × step below. Otherwise |step| < size, so that product fits.
            step[axis] = shape[axis] == 1 ? 1 : s
        }
        // A slice that keeps everything (GhostNet's `cat(x1, x2)[:, :out]` when the halves add up
        // to `out`) is the input itself: buffers are values, so no copy is needed.
        if shape == x.shape, begin.allSatisfy({ $0 == 0 }), step.allSatisfy({ $0 == 1 }) { return x }
        let strides = ShapeOperators.contiguousStrides(x.shape)
        let start = zip(begin, strides).reduce(0) { $0 + $1.0 * $1.1 }
        guard !shape.contains(0) else { return Buffer(shape: shape, storage: x.storage.picking([]), integerType: x.integerType) }
        // The output is blocks of contiguous input: the trailing axes taken whole, times the
        // axis before them when it has step 1. Walk the remaining axes to find each block.
        var split = rank
        while split > 0, begin[split - 1] == 0, step[split - 1] == 1, shape[split - 1] == x.shape[split - 1] { split -= 1 }
        var block = shape[split...].reduce(1, *)
        if split > 0, step[split - 1] == 1 {
            split -= 1
            block *= shape[split]
        }
        let blockStarts = ShapeOperators.walk(Array(shape[..<split]), (0..<split).map { strides[$0] * step[$0] }, start: start)
        return Buffer(shape: shape, storage: x.storage.copyingBlocks(at: blockStarts, length: block), integerType: x.integerType)
    }

    /// Gather along `axis`; indices of any shape, negative ones counting from the end.
    static func gather(_ context: NodeContext) throws(InterpreterError) -> Buffer {
        let x = try context.input(0), indices = try context.input(1)
        guard !indices.isFloatingPoint else { throw context.fail("indices must be integers, got \(indices.typeName)") }
        let axis = try context.axis(try context.int("axis", 0), rank: x.shape.count)
        let (outer, size, inner) = Normalization.split(x.shape, at: axis)
        var positions: [Int] = []
        positions.reserveCapacity(indices.count)
        for raw in indices.int64Values {
            let i = raw < 0 ? raw &+ Int64(size) : raw
            guard i >= 0, i < size else { throw context.fail("index \(raw) is out of range for axis size \(size)") }
            positions.append(Int(i))
        }
        let shape = Array(x.shape[..<axis]) + indices.shape + Array(x.shape[(axis + 1)...])
        _ = try context.elementCount(of: shape)
        var offsets: [Int] = []
        offsets.reserveCapacity(outer * positions.count * inner)
        for o in 0..<outer {
            for p in positions { offsets.append(contentsOf: ((o * size + p) * inner)..<((o * size + p + 1) * inner)) }
        }
        return Buffer(shape: shape, storage: x.storage.picking(offsets), integerType: x.integerType)
    }
}
