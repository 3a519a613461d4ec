/// GatherElements, GatherND, NonZero, Compress and ReverseSequence: operators that read elements
/// at positions given by data. Any element type; every index is checked before anything is read.
enum Indexing {
    /// The integer elements of an index input (int32 or int64), refusing floats and bools.
    static func indexValues(_ buffer: Buffer, _ context: NodeContext) throws(InterpreterError) -> [Int64] {
        guard case .int64(let values) = buffer.storage else { throw context.fail("indices must be integers, got \(buffer.typeName)") }
        return values
    }

    /// Checks that every index lies in −size..<size (negative ones count from the end).
    static func checkRange(_ indices: [Int64], size: Int, _ context: NodeContext) throws(InterpreterError) {
        let size = Int64(size)
        for index in indices where index < -size || index >= size {
            throw context.fail("index \(index) is out of range for an axis of size \(size)")
        }
    }

    /// GatherElements: out[i_0, …, i_r−1] = data[i_0, …, indices[i_0, …, i_r−1], …, i_r−1] with the
    /// index at `axis`; indices have the data's rank and are no longer than it on the other axes.
    static func gatherElements(_ context: NodeContext) throws(InterpreterError) -> Buffer {
        let data = try context.input(0), indexBuffer = try context.input(1)
        let indices = try indexValues(indexBuffer, context)
        let rank = data.shape.count
        guard rank >= 1, indexBuffer.shape.count == rank else {
            throw context.fail("indices \(indexBuffer.shape) must have the rank of the data \(data.shape) (≥ 1)")
        }
        let axis = try context.axis(try context.int("axis", 0), rank: rank)
        for d in 0..<rank where d != axis && indexBuffer.shape[d] > data.shape[d] {
            throw context.fail("indices \(indexBuffer.shape) are longer than the data \(data.shape) on axis \(d)")
        }
        try checkRange(indices, size: data.shape[axis], context)
        let walk = ElementWalk(dataShape: data.shape, indexShape: indexBuffer.shape, axis: axis)
        return Buffer(shape: indexBuffer.shape, storage: data.storage.moved(by: GatherElementsMover(walk: walk, indices: indices)),
                      integerType: data.integerType)
    }

    /// The walk over an index tensor in C order shared by GatherElements and ScatterElements: for
    /// each element, the data offset of its position with the index substituted on `axis`.
    struct ElementWalk {
        let dataShape: [Int], indexShape: [Int], axis: Int
        let dataStrides: [Int]

        init(dataShape: [Int], indexShape: [Int], axis: Int) {
            self.dataShape = dataShape
            self.indexShape = indexShape
            self.axis = axis
            dataStrides = ShapeOperators.contiguousStrides(dataShape)
        }

        /// Calls `body(first, base, length, step)` once per row of the index tensor's last axis:
        /// index elements first..<first + length, element j of which addresses data offset
        /// base + j·step + index·axisStride (step is 0 when the last axis is the indexed one).
        func forEachRow(_ body: (_ first: Int, _ base: Int, _ length: Int, _ step: Int) -> Void) {
            let rank = indexShape.count
            let count = indexShape.reduce(1, *)
            guard count > 0 else { return }
            let length = indexShape[rank - 1]
            let step = axis == rank - 1 ? 0 : 1
            var position = [Int](repeating: 0, count: rank - 1)
            var base = 0, first = 0
            while first < count {
                body(first, base, length, step)
                first += length
                var d = rank - 2
                while d >= 0 {
                    position[d] += 1
                    let stride = d == axis ? 0 : dataStrides[d]
                    base += stride
                    if position[d] < indexShape[d] { break }
                    base -= stride * indexShape[d]
                    position[d] = 0
                    d -= 1
                }
            }
        }
    }

    struct GatherElementsMover: ElementMover {
        let walk: ElementWalk, indices: [Int64]

        func callAsFunction<T>(_ values: [T], zero: T) -> [T] {
            let size = Int64(walk.dataShape[walk.axis]), axisStride = walk.dataStrides[walk.axis]
            return [T](filling: indices.count) { out in
                values.withUnsafeBufferPointer { source in
                    indices.withUnsafeBufferPointer { index in
                        walk.forEachRow { first, base, length, step in
                            for j in 0..<length {
                                // Branch-free wrap of a negative index (its sign bits select size).
                                let raw = index[first + j]
                                let i = Int(truncatingIfNeeded: raw &+ ((raw >> 63) & size))
                                out.initializeElement(at: first + j, to: source[base + j * step + i * axisStride])
                            }
                        }
                    }
                }
            }
        }
    }

    /// GatherND with `batch_dims` b: for each tuple t of the last index axis (length m),
    /// out[…] = data[batch…, t_0, …, t_m−1, :] — a block of the data's trailing axes.
    static func gatherND(_ context: NodeContext) throws(InterpreterError) -> Buffer {
        let data = try context.input(0), indexBuffer = try context.input(1)
        let indices = try indexValues(indexBuffer, context)
        let (starts, shape, block) = try ndPositions(data.shape, indexBuffer.shape, indices, batchDims: try context.int("batch_dims", 0), context)
        _ = try context.elementCount(of: shape)
        return Buffer(shape: shape, storage: data.storage.copyingBlocks(at: starts, length: block), integerType: data.integerType)
    }

    /// The data offset of each index tuple of GatherND / ScatterND, the output (updates) shape
    /// and the block each tuple addresses.
    static func ndPositions(_ dataShape: [Int], _ indexShape: [Int], _ indices: [Int64], batchDims: Int,
                            _ context: NodeContext) throws(InterpreterError) -> (starts: [Int], shape: [Int], block: Int) {
        let r = dataShape.count, q = indexShape.count
        guard q >= 1, r >= 1 else { throw context.fail("data \(dataShape) and indices \(indexShape) must have rank ≥ 1") }
        guard batchDims >= 0, batchDims < min(q, r) else { throw context.fail("batch_dims \(batchDims) must be in 0..<\(min(q, r))") }
        guard Array(dataShape[..<batchDims]) == Array(indexShape[..<batchDims]) else {
            throw context.fail("the first \(batchDims) axes of data \(dataShape) and indices \(indexShape) differ")
        }
        let m = indexShape[q - 1]
        guard m >= 1, m <= r - batchDims else {
            throw context.fail("the last index axis (\(m)) must be in 1...\(r - batchDims) for data \(dataShape)")
        }
        let strides = ShapeOperators.contiguousStrides(dataShape)
        let tuples = indices.count / m
        let perBatch = indexShape[batchDims..<(q - 1)].reduce(1, *)
        let batchStride = batchDims == 0 ? 0 : strides[batchDims - 1]
        var starts: [Int] = []
        starts.reserveCapacity(tuples)
        for t in 0..<tuples {
            var offset = perBatch == 0 ? 0 : (t / perBatch) * batchStride
            for k in 0..<m {
                let raw = indices[t * m + k], size = Int64(dataShape[batchDims + k])
                guard raw >= -size, raw < size else {
                    throw context.fail("index \(raw) is out of range for axis \(batchDims + k) of size \(size)")
                }
                offset += Int(raw < 0 ? raw + size : raw) * strides[batchDims + k]
            }
            starts.append(offset)
        }
        let trailing = Array(dataShape[(batchDims + m)...])
        return (starts, Array(indexShape[..<(q - 1)]) + trailing, trailing.reduce(1, *))
    }

    /// NonZero: the coordinates of the nonzero elements (NaN counts as nonzero) in C order, as
    /// int64 [rank, count]; a scalar counts as rank 1.
    static func nonZero(_ context: NodeContext) throws(InterpreterError) -> Buffer {
        let x = try context.input(0)
        var flat: [Int] = []
        switch x.storage {
        case .float(let v): for (i, e) in v.enumerated() where e != 0 { flat.append(i) }
        case .double(let v): for (i, e) in v.enumerated() where e != 0 { flat.append(i) }
        case .int64(let v): for (i, e) in v.enumerated() where e != 0 { flat.append(i) }
        case .bool(let v): for (i, e) in v.enumerated() where e { flat.append(i) }
        }
        let shape = x.shape.isEmpty ? [1] : x.shape
        let strides = ShapeOperators.contiguousStrides(shape)
        var out = [Int64](repeating: 0, count: shape.count * flat.count)
        for (n, position) in flat.enumerated() {
            var remainder = position
            for d in shape.indices {
                out[d * flat.count + n] = Int64(remainder / strides[d])
                remainder %= strides[d]
            }
        }
        return Buffer(shape: [shape.count, flat.count], storage: .int64(out))
    }

    /// Compress: the slices along `axis` (or elements of the flattened input, without one) whose
    /// condition is true; a shorter condition drops the rest, a longer one is cut (ONNX Runtime).
    static func compress(_ context: NodeContext) throws(InterpreterError) -> Buffer {
        let x = try context.input(0), condition = try context.input(1)
        guard condition.shape.count == 1, !condition.isFloatingPoint else {
            throw context.fail("condition must be a 1-D bool tensor, got \(condition.typeName) \(condition.shape)")
        }
        let truth = condition.int64Values
        guard context.node.attribute("axis") != nil else {
            let kept = (0..<min(truth.count, x.count)).filter { truth[$0] != 0 }
            return Buffer(shape: [kept.count], storage: x.storage.copyingBlocks(at: kept, length: 1), integerType: x.integerType)
        }
        let axis = try context.axis(try context.int("axis", 0), rank: x.shape.count)
        let (outer, size, inner) = Normalization.split(x.shape, at: axis)
        let kept = (0..<min(truth.count, size)).filter { truth[$0] != 0 }
        var starts: [Int] = []
        starts.reserveCapacity(outer * kept.count)
        for o in 0..<outer { for k in kept { starts.append((o * size + k) * inner) } }
        var shape = x.shape
        shape[axis] = kept.count
        return Buffer(shape: shape, storage: x.storage.copyingBlocks(at: starts, length: inner), integerType: x.integerType)
    }

    /// ReverseSequence: for each batch entry b, the first sequence_lens[b] steps along
    /// `time_axis` in reverse order, the rest as they are (`batch_axis`, `time_axis` are 0 and 1).
    static func reverseSequence(_ context: NodeContext) throws(InterpreterError) -> Buffer {
        let x = try context.input(0), lengths = try indexValues(try context.input(1), context)
        guard x.shape.count >= 2 else { throw context.fail("the input must have rank ≥ 2, got \(x.shape)") }
        let batchAxis = try context.int("batch_axis", 1), timeAxis = try context.int("time_axis", 0)
        guard Set([batchAxis, timeAxis]) == [0, 1] else {
            throw context.fail("batch_axis \(batchAxis) and time_axis \(timeAxis) must be 0 and 1")
        }
        let batch = x.shape[batchAxis], time = x.shape[timeAxis]
        guard lengths.count == batch else { throw context.fail("sequence_lens has \(lengths.count) entries for a batch of \(batch)") }
        for length in lengths where length < 0 || length > Int64(time) {
            throw context.fail("sequence length \(length) is not in 0...\(time)")
        }
        let inner = x.shape[2...].reduce(1, *)
        var starts: [Int] = []
        starts.reserveCapacity(batch * time)
        for first in 0..<x.shape[0] {
            for second in 0..<x.shape[1] {
                let (b, t) = batchAxis == 0 ? (first, second) : (second, first)
                let length = Int(lengths[b])
                let source = t < length ? length - 1 - t : t
                starts.append((timeAxis == 0 ? source * batch + b : b * time + source) * inner)
            }
        }
        return Buffer(shape: x.shape, storage: x.storage.copyingBlocks(at: starts, length: inner), integerType: x.integerType)
    }
}
