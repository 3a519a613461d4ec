/// The loops of Resize, given each axis's table of source indices and weights (nil: the axis is
/// copied unchanged).
///
/// Nearest is a gather: every output row (all axes but the last fixed) reads one input row, and
/// consecutive output rows that read the same input row (an upscaled outer axis) are copies of
/// the row before. Linear and cubic are separable: one pass per resized axis, each output line
/// `Σₖ wₖ·line[iₖ]`; along an outer axis the lines are whole contiguous rows (a vectorized
/// weighted sum), along the last axis a gather per element.
enum ResizeKernels {
    static func nearest<E>(_ values: [E], _ shape: [Int], _ tables: [Resize.AxisTable?], fill: E) -> [E] {
        let rank = shape.count
        guard rank > 0 else { return values }
        let outShape = (0..<rank).map { tables[$0]?.output ?? shape[$0] }
        let strides = ShapeOperators.contiguousStrides(shape)
        let width = outShape[rank - 1], inWidth = shape[rank - 1]
        let rows = outShape[..<(rank - 1)].reduce(1, *)
        let columns = tables[rank - 1]?.indices
        let repeats = columns.flatMap { repetition($0, inWidth: inWidth) }
        var out = [E](filling: rows * width) { out in
            values.withUnsafeBufferPointer { source in
                guard let input = source.baseAddress, let output = out.baseAddress else { return }
                var position = [Int](repeating: 0, count: rank)
                var previous = -1
                for row in 0..<rows {
                    var offset = 0
                    for axis in 0..<(rank - 1) {
                        offset += (tables[axis]?.indices[position[axis]] ?? position[axis]) * strides[axis]
                    }
                    let destination = output + row * width
                    if offset == previous {
                        destination.initialize(from: destination - width, count: width)
                    } else if let repeats {
                        let line = input + offset
                        for i in 0..<inWidth {
                            let value = line[i], run = destination + i * repeats
                            for k in 0..<repeats { (run + k).initialize(to: value) }
                        }
                    } else if let columns {
                        columns.withUnsafeBufferPointer { columns in
                            let line = input + offset
                            for j in 0..<width { (destination + j).initialize(to: line[columns[j]]) }
                        }
                    } else {
                        destination.initialize(from: input + offset, count: inWidth)
                    }
                    previous = offset
                    var axis = rank - 2
                    while axis >= 0 {
                        position[axis] += 1
                        if position[axis] < outShape[axis] { break }
                        position[axis] = 0
                        axis -= 1
                    }
                }
            }
        }
        extrapolate(&out, outShape, tables, fill: fill)
        return out
    }

    /// f when the last axis's table reads each input column f times in order (column j reads
    /// ⌊j / f⌋: an integer upscale with asymmetric, half-pixel or floor-rounded coordinates), so
    /// the row is written as runs instead of gathered.
    static func repetition(_ columns: [Int], inWidth: Int) -> Int? {
        guard inWidth > 0, columns.count % inWidth == 0 else { return nil }
        let factor = columns.count / inWidth
        guard factor > 1 else { return nil }
        for (j, column) in columns.enumerated() where column != j / factor { return nil }
        return factor
    }

    static func interpolate<T: InterpreterScalar>(_ values: [T], _ shape: [Int], _ tables: [Resize.AxisTable?], fill: T) -> [T] {
        let rank = shape.count
        var current = values, currentShape = shape
        for axis in passOrder(shape, tables) {
            guard let table = tables[axis] else { continue }
            current = pass(current, currentShape, axis: axis, table)
            currentShape[axis] = table.output
        }
        if rank > 0 { extrapolate(&current, currentShape, tables, fill: fill) }
        return current
    }

    /// The resized axes in the order that does the least arithmetic: in increasing order, or the
    /// last axis first (when it grows, gathering along it before the outer axes multiply the rows
    /// leaves the larger passes to the vectorized row sums).
    private static func passOrder(_ shape: [Int], _ tables: [Resize.AxisTable?]) -> [Int] {
        let resized = shape.indices.filter { tables[$0] != nil }
        guard let last = resized.last, resized.count > 1 else { return resized }
        func cost(_ order: [Int]) -> Double {
            var dims = shape.map(Double.init), total = 0.0
            for axis in order {
                guard let table = tables[axis] else { continue }
                dims[axis] = Double(table.output)
                let work = dims.reduce(1, *) * Double(table.taps)
                // A gather along the last axis costs about four vectorized multiply-adds.
                total += axis == shape.count - 1 ? 4 * work : work
            }
            return total
        }
        let lastFirst = [last] + resized.dropLast()
        return cost(lastFirst) < cost(resized) ? lastFirst : resized
    }

    /// One axis: out[a, o, b] = Σₖ w[o, k]·in[a, i[o, k], b].
    private static func pass<T: InterpreterScalar>(_ values: [T], _ shape: [Int], axis: Int, _ table: Resize.AxisTable) -> [T] {
        let outer = shape[..<axis].reduce(1, *), length = shape[axis], inner = shape[(axis + 1)...].reduce(1, *)
        let outLength = table.output, taps = table.taps
        let weights = table.weights.map { T($0) }
        return [T](filling: outer * outLength * inner) { out in
            values.withUnsafeBufferPointer { source in
                weights.withUnsafeBufferPointer { weights in
                    table.indices.withUnsafeBufferPointer { indices in
                        guard let input = source.baseAddress, let output = out.baseAddress,
                              let w = weights.baseAddress, let index = indices.baseAddress else { return }
                        for a in 0..<outer {
                            let line = input + a * length * inner
                            let target = output + a * outLength * inner
                            if inner == 1 {
                                if taps == 2 {
                                    for o in 0..<outLength {
                                        (target + o).initialize(to: w[2 * o] * line[index[2 * o]] + w[2 * o + 1] * line[index[2 * o + 1]])
                                    }
                                } else {
                                    for o in 0..<outLength {
                                        var sum: T = 0
                                        for k in 0..<taps { sum += w[o * taps + k] * line[index[o * taps + k]] }
                                        (target + o).initialize(to: sum)
                                    }
                                }
                                continue
                            }
                            for o in 0..<outLength {
                                let row = target + o * inner
                                let first = line + index[o * taps] * inner, w0 = w[o * taps]
                                if taps == 2 {
                                    let second = line + index[o * taps + 1] * inner, w1 = w[o * taps + 1]
                                    for j in 0..<inner { (row + j).initialize(to: w0 * first[j] + w1 * second[j]) }
                                    continue
                                }
                                for j in 0..<inner { (row + j).initialize(to: w0 * first[j]) }
                                for k in 1..<max(taps, 1) {
                                    let next = line + index[o * taps + k] * inner, wk = w[o * taps + k]
                                    for j in 0..<inner { row[j] += wk * next[j] }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// tf_crop_and_resize: every output with a source coordinate outside the input on any axis
    /// becomes `fill`.
    private static func extrapolate<E>(_ values: inout [E], _ shape: [Int], _ tables: [Resize.AxisTable?], fill: E) {
        let rank = shape.count
        guard tables.contains(where: { $0?.outside != nil }) else { return }
        let width = shape[rank - 1], rows = shape[..<(rank - 1)].reduce(1, *)
        let columns = tables[rank - 1]?.outside
        var position = [Int](repeating: 0, count: rank)
        values.withUnsafeMutableBufferPointer { out in
            for row in 0..<rows {
                var whole = false
                for axis in 0..<(rank - 1) where tables[axis]?.outside?[position[axis]] == true { whole = true }
                if whole {
                    for j in 0..<width { out[row * width + j] = fill }
                } else if let columns {
                    for j in 0..<width where columns[j] { out[row * width + j] = fill }
                }
                var axis = rank - 2
                while axis >= 0 {
                    position[axis] += 1
                    if position[axis] < shape[axis] { break }
                    position[axis] = 0
                    axis -= 1
                }
            }
        }
    }
}
