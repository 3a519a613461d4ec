import GhostIR

/// An element type ScatterND / ScatterElements can combine. Max and min follow ONNX Runtime
/// (`std::max(update, data)`, `std::min(update, data)`): a NaN update wins, a NaN in the data
/// gives way to a number. Integers wrap; bool adds as or and multiplies as and.
protocol ScatterElement {
    static func scatterAdd(_ data: Self, _ update: Self) -> Self
    static func scatterMultiply(_ data: Self, _ update: Self) -> Self
    static func scatterMax(_ data: Self, _ update: Self) -> Self
    static func scatterMin(_ data: Self, _ update: Self) -> Self
}

extension ScatterElement where Self: Comparable {
    static func scatterMax(_ data: Self, _ update: Self) -> Self { update < data ? data : update }
    static func scatterMin(_ data: Self, _ update: Self) -> Self { data < update ? data : update }
}

extension Float: ScatterElement {
    static func scatterAdd(_ data: Float, _ update: Float) -> Float { data + update }
    static func scatterMultiply(_ data: Float, _ update: Float) -> Float { data * update }
}

extension Double: ScatterElement {
    static func scatterAdd(_ data: Double, _ update: Double) -> Double { data + update }
    static func scatterMultiply(_ data: Double, _ update: Double) -> Double { data * update }
}

extension Int64: ScatterElement {
    static func scatterAdd(_ data: Int64, _ update: Int64) -> Int64 { data &+ update }
    static func scatterMultiply(_ data: Int64, _ update: Int64) -> Int64 { data &* update }
}

extension Bool: ScatterElement {
    static func scatterAdd(_ data: Bool, _ update: Bool) -> Bool { data || update }
    static func scatterMultiply(_ data: Bool, _ update: Bool) -> Bool { data && update }
    static func scatterMax(_ data: Bool, _ update: Bool) -> Bool { data || update }
    static func scatterMin(_ data: Bool, _ update: Bool) -> Bool { data && update }
}

/// ScatterND, ScatterElements and the deprecated Scatter (opset 9–10, ScatterElements without
/// `reduction`): a copy of the data with updates written, or combined, at indexed positions.
/// Updates are applied in order, so with `none` a repeated index keeps its last update.
enum Scatter {
    enum Reduction: String {
        case none, add, mul, max, min

        @inline(__always)
        func combine<T: ScatterElement>(_ data: T, _ update: T) -> T {
            switch self {
            case .none: update
            case .add: T.scatterAdd(data, update)
            case .mul: T.scatterMultiply(data, update)
            case .max: T.scatterMax(data, update)
            case .min: T.scatterMin(data, update)
            }
        }
    }

    static func reduction(_ context: NodeContext) throws(InterpreterError) -> Reduction {
        let name = try context.string("reduction", "none")
        guard let reduction = Reduction(rawValue: name) else { throw context.unsupported("reduction", name) }
        return reduction
    }

    /// Applies `body` to the data and updates of the same element type, and wraps integers
    /// combined by add or mul back to their type's width.
    private static func combining(_ data: Buffer, _ updates: Buffer, _ reduction: Reduction, _ context: NodeContext,
                                  _ writer: some ScatterWriter) throws(InterpreterError) -> Buffer {
        func written<T: ScatterElement>(_ values: [T], _ updates: [T]) -> [T] {
            var out = values
            out.withUnsafeMutableBufferPointer { out in
                updates.withUnsafeBufferPointer { source in writer.write(out, source, reduction) }
            }
            return out
        }
        var storage: Buffer.Storage
        switch (data.storage, updates.storage) {
        case (.float(let d), .float(let u)): storage = .float(written(d, u))
        case (.double(let d), .double(let u)): storage = .double(written(d, u))
        case (.int64(let d), .int64(let u)) where data.integerType == updates.integerType: storage = .int64(written(d, u))
        case (.bool(let d), .bool(let u)): storage = .bool(written(d, u))
        default: throw context.fail("updates (\(updates.typeName)) must have the data's type (\(data.typeName))")
        }
        if case .int64(let v) = storage, data.integerType != .int64, reduction == .add || reduction == .mul {
            storage = .int64(v.map { Constants.wrap($0, to: data.integerType) })
        }
        return Buffer(shape: data.shape, storage: storage, integerType: data.integerType)
    }

    /// ScatterND: for each index tuple t (the last index axis), the block data[t, :] combined
    /// with the matching block of updates; updates have shape indices[:-1] + data[m:].
    static func scatterND(_ context: NodeContext) throws(InterpreterError) -> Buffer {
        let data = try context.input(0), indexBuffer = try context.input(1), updates = try context.input(2)
        let indices = try Indexing.indexValues(indexBuffer, context)
        let reduction = try reduction(context)
        let (starts, shape, block) = try Indexing.ndPositions(data.shape, indexBuffer.shape, indices, batchDims: 0, context)
        guard updates.shape == shape else { throw context.fail("updates have shape \(updates.shape), expected \(shape)") }
        return try combining(data, updates, reduction, context, BlockWriter(starts: starts, block: block))
    }

    /// ScatterElements: data[i_0, …, indices[i_0, …], …] combined with updates[i_0, …] for each
    /// index element, the index on `axis`; indices and updates have one shape, of the data's rank.
    static func scatterElements(_ context: NodeContext) throws(InterpreterError) -> Buffer {
        let data = try context.input(0), indexBuffer = try context.input(1), updates = try context.input(2)
        let indices = try Indexing.indexValues(indexBuffer, context)
        let reduction = try reduction(context)
        let rank = data.shape.count
        guard rank >= 1, indexBuffer.shape.count == rank, updates.shape == indexBuffer.shape else {
            throw context.fail("indices \(indexBuffer.shape) and updates \(updates.shape) must have one shape, of the data's rank (\(data.shape))")
        }
        let axis = try context.axis(try context.int("axis", 0), rank: rank)
        for d in 0..<rank where d != axis && indexBuffer.shape[d] > data.shape[d] {
            throw context.fail("indices \(indexBuffer.shape) are longer than the data \(data.shape) on axis \(d)")
        }
        try Indexing.checkRange(indices, size: data.shape[axis], context)
        let walk = Indexing.ElementWalk(dataShape: data.shape, indexShape: indexBuffer.shape, axis: axis)
        return try combining(data, updates, reduction, context, ElementWriter(walk: walk, indices: indices))
    }
}

/// Writes a scatter's updates into a copy of its data, for any element type.
protocol ScatterWriter {
    func write<T: ScatterElement>(_ out: UnsafeMutableBufferPointer<T>, _ updates: UnsafeBufferPointer<T>, _ reduction: Scatter.Reduction)
}

/// ScatterND: update block t goes to the data block at starts[t].
private struct BlockWriter: ScatterWriter {
    let starts: [Int], block: Int

    func write<T: ScatterElement>(_ out: UnsafeMutableBufferPointer<T>, _ updates: UnsafeBufferPointer<T>, _ reduction: Scatter.Reduction) {
        for (t, start) in starts.enumerated() {
            for i in 0..<block { out[start + i] = reduction.combine(out[start + i], updates[t * block + i]) }
        }
    }
}

/// ScatterElements: update k goes to its position with indices[k] on the axis (indices checked).
private struct ElementWriter: ScatterWriter {
    let walk: Indexing.ElementWalk, indices: [Int64]

    func write<T: ScatterElement>(_ out: UnsafeMutableBufferPointer<T>, _ updates: UnsafeBufferPointer<T>, _ reduction: Scatter.Reduction) {
        let size = Int64(walk.dataShape[walk.axis]), axisStride = walk.dataStrides[walk.axis]
        walk.forEachRow { first, base, length, step in
            for j in 0..<length {
                let raw = indices[first + j]
                let at = base + j * step + Int(truncatingIfNeeded: raw &+ ((raw >> 63) & size)) * axisStride
                out[at] = reduction.combine(out[at], updates[first + j])
            }
        }
    }
}
