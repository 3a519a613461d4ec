import GhostIR

extension Buffer.Storage {
    /// The elements at `indices`, in that order.
    func picking(_ indices: [Int]) -> Buffer.Storage {
        switch self {
        case .float(let v): .float(indices.map { v[$0] })
        case .double(let v): .double(indices.map { v[$0] })
        case .int64(let v): .int64(indices.map { v[$0] })
        case .bool(let v): .bool(indices.map { v[$0] })
        }
    }

    var count: Int {
        switch self {
        case .float(let v): v.count
        case .double(let v): v.count
        case .int64(let v): v.count
        case .bool(let v): v.count
        }
    }

    /// `count` copies of element 0 (ConstantOfShape, Pad's fill).
    func repeating(_ count: Int) -> Buffer.Storage { picking([Int](repeating: 0, count: count)) }
}

/// Reshape, Flatten, Transpose, Squeeze, Unsqueeze, Concat, Split, Slice, Pad, Shape, Gather,
/// ConstantOfShape, Cast, Constant.
enum ShapeOperators {
    static func reshape(_ context: NodeContext) throws(InterpreterError) -> Buffer {
        var x = try context.input(0)
        let requested = try context.input(1).int64Values.map { Int($0) }
        let allowZero = try context.int("allowzero", 0) != 0
        var shape = requested.enumerated().map { $0.element == 0 && !allowZero && $0.offset < x.shape.count ? x.shape[$0.offset] : $0.element }
        if let unknown = shape.firstIndex(of: -1) {
            let known = shape.enumerated().filter { $0.offset != unknown }.map(\.element).reduce(1, *)
            guard known > 0, x.count % known == 0 else { throw context.fail("cannot reshape \(x.shape) to \(requested)") }
            shape[unknown] = x.count / known
        }
        guard shape.allSatisfy({ $0 >= 0 }), shape.reduce(1, *) == x.count else { throw context.fail("cannot reshape \(x.shape) to \(requested)") }
        x.shape = shape
        return x
    }

    static func flatten(_ context: NodeContext) throws(InterpreterError) -> Buffer {
        var x = try context.input(0)
        let axis = try context.int("axis", 1)
        let split = axis < 0 ? axis + x.shape.count : axis
        guard split >= 0, split <= x.shape.count else { throw context.fail("axis \(axis) is out of range") }
        x.shape = [x.shape[..<split].reduce(1, *), x.shape[split...].reduce(1, *)]
        return x
    }

    static func transpose(_ context: NodeContext) throws(InterpreterError) -> Buffer {
        let x = try context.input(0)
        let rank = x.shape.count
        let permutation = try context.ints("perm") ?? Array((0..<rank).reversed())
        guard permutation.sorted() == Array(0..<rank) else { throw context.fail("perm \(permutation) is not a permutation of 0..<\(rank)") }
        let shape = permutation.map { x.shape[$0] }
        let inputStrides = Broadcast.strides(of: x.shape, in: x.shape)
        let strides = permutation.map { inputStrides[$0] }
        return Buffer(shape: shape, storage: x.storage.picking(walk(shape, strides)), integerType: x.integerType)
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
            var axis = shape.count - 1
            while axis >= 0 {
                index[axis] += 1
                offset += strides[axis]
                if index[axis] < shape[axis] { break }
                offset -= strides[axis] * shape[axis]
                index[axis] = 0
                axis -= 1
            }
        }
        return result
    }

    /// Axes from the attribute (older opsets) or the second input (opset 13+).
    static func axes(_ context: NodeContext) throws(InterpreterError) -> [Int]? {
        if let attribute = try context.ints("axes") { return attribute }
        return context.optionalInput(1)?.int64Values.map { Int($0) }
    }

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

    static func unsqueeze(_ context: NodeContext) throws(InterpreterError) -> Buffer {
        var x = try context.input(0)
        guard let axes = try axes(context) else { throw context.fail("axes are missing") }
        let rank = x.shape.count + axes.count
        var inserted = Set<Int>()
        for axis in axes { inserted.insert(try context.axis(axis, rank: rank)) }
        var shape: [Int] = []
        var source = x.shape.makeIterator()
        for axis in 0..<rank { shape.append(inserted.contains(axis) ? 1 : source.next() ?? 1) }
        x.shape = shape
        return x
    }

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
        // Output block o is part 0's block o, then part 1's block o, …: copy whole blocks.
        func interleave<T>(_ arrays: [[T]]) -> [T] {
            var result: [T] = []
            result.reserveCapacity(arrays.reduce(0) { $0 + $1.count })
            for o in 0..<outer {
                for (p, array) in arrays.enumerated() {
                    let block = parts[p].shape[axis] * inner
                    result.append(contentsOf: array[(o * block)..<((o + 1) * block)])
                }
            }
            return result
        }
        let storage: Buffer.Storage
        switch first.storage {
        case .float: storage = .float(interleave(try parts.map { (part) throws(InterpreterError) -> [Float] in
            guard case .float(let v) = part.storage else { throw context.fail("inputs have different element types") }
            return v
        }))
        case .double: storage = .double(interleave(try parts.map { (part) throws(InterpreterError) -> [Double] in
            guard case .double(let v) = part.storage else { throw context.fail("inputs have different element types") }
            return v
        }))
        case .int64: storage = .int64(interleave(parts.map(\.int64Values)))
        case .bool: storage = .bool(interleave(try parts.map { (part) throws(InterpreterError) -> [Bool] in
            guard case .bool(let v) = part.storage else { throw context.fail("inputs have different element types") }
            return v
        }))
        }
        return Buffer(shape: shape, storage: storage, integerType: first.integerType)
    }

    static func split(_ context: NodeContext) throws(InterpreterError) -> [Buffer] {
        let x = try context.input(0)
        let axis = try context.axis(try context.int("axis", 0), rank: x.shape.count)
        let size = x.shape[axis]
        var sizes = try context.ints("split") ?? context.optionalInput(1)?.int64Values.map { Int($0) }
        if sizes == nil {
            let parts = try context.int("num_outputs", context.node.outputs.count)
            guard parts >= 1 else { throw context.fail("num_outputs must be positive") }
            let chunk = (size + parts - 1) / parts
            sizes = (0..<parts).map { min(chunk, max(size - $0 * chunk, 0)) }
        }
        guard let sizes, sizes.reduce(0, +) == size, sizes.allSatisfy({ $0 >= 0 }) else {
            throw context.fail("split sizes do not add up to \(size)")
        }
        var start = 0
        var result: [Buffer] = []
        for part in sizes {
            result.append(try slice(x, axes: [axis], starts: [start], ends: [start + part], steps: [1], context))
            start += part
        }
        return result
    }

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
            axes = context.optionalInput(3)?.int64Values.map { Int($0) } ?? Array(0..<starts.count)
            steps = context.optionalInput(4)?.int64Values.map { Int($0) } ?? [Int](repeating: 1, count: starts.count)
        }
        guard starts.count == ends.count, axes.count == starts.count, steps.count == starts.count else {
            throw context.fail("starts, ends, axes and steps have different lengths")
        }
        return try slice(x, axes: axes, starts: starts, ends: ends, steps: steps, context)
    }

    static func slice(_ x: Buffer, axes: [Int], starts: [Int], ends: [Int], steps: [Int], _ context: NodeContext) throws(InterpreterError) -> Buffer {
        let rank = x.shape.count
        var begin = [Int](repeating: 0, count: rank), step = [Int](repeating: 1, count: rank), shape = x.shape
        for (i, rawAxis) in axes.enumerated() {
            let axis = try context.axis(rawAxis, rank: rank)
            let size = x.shape[axis], s = steps[i]
            guard s != 0 else { throw context.fail("slice step is 0") }
            func clamp(_ value: Int, _ low: Int, _ high: Int) -> Int { min(max(value, low), high) }
            var first = starts[i] < 0 ? starts[i] + size : starts[i]
            var last = ends[i] < 0 ? ends[i] + size : ends[i]
            if s > 0 {
                first = clamp(first, 0, size)
                last = clamp(last, 0, size)
                shape[axis] = max(0, (last - first + s - 1) / s)
            } else {
                first = clamp(first, -1, size - 1)
                last = clamp(last, -1, size - 1)
                shape[axis] = max(0, (first - last + (-s) - 1) / (-s))
            }
            begin[axis] = first
            step[axis] = s
        }
        let strides = Broadcast.strides(of: x.shape, in: x.shape)
        // Unit steps on the innermost sliced axes: copy contiguous runs instead of single elements.
        if rank > 0, step.allSatisfy({ $0 == 1 }), !shape.contains(0) {
            let run = shape[rank - 1]
            let rowStarts = walk(Array(shape.dropLast()), Array(strides.dropLast()), start: zip(begin, strides).reduce(0) { $0 + $1.0 * $1.1 })
            func gather<T>(_ values: [T]) -> [T] {
                var result: [T] = []
                result.reserveCapacity(rowStarts.count * run)
                for start in rowStarts { result.append(contentsOf: values[start..<(start + run)]) }
                return result
            }
            let storage: Buffer.Storage = switch x.storage {
            case .float(let v): .float(gather(v))
            case .double(let v): .double(gather(v))
            case .int64(let v): .int64(gather(v))
            case .bool(let v): .bool(gather(v))
            }
            return Buffer(shape: shape, storage: storage, integerType: x.integerType)
        }
        let start = zip(begin, strides).reduce(0) { $0 + $1.0 * $1.1 }
        let walkStrides = zip(strides, step).map { $0 * $1 }
        let offsets = shape.contains(0) ? [] : walk(shape, walkStrides, start: start)
        return Buffer(shape: shape, storage: x.storage.picking(offsets), integerType: x.integerType)
    }

    static func pad(_ context: NodeContext) throws(InterpreterError) -> Buffer {
        let x = try context.input(0)
        let mode = try context.string("mode", "constant")
        guard mode == "constant" else { throw context.unsupported("mode", mode) }
        let rank = x.shape.count
        var pads = try context.ints("pads") ?? context.optionalInput(1)?.int64Values.map { Int($0) } ?? []
        if context.opset >= 18, let axesInput = context.optionalInput(3) {
            var full = [Int](repeating: 0, count: 2 * rank)
            let axes = axesInput.int64Values.map { Int($0) }
            for (i, raw) in axes.enumerated() {
                let axis = try context.axis(raw, rank: rank)
                full[axis] = pads[i]
                full[axis + rank] = pads[i + axes.count]
            }
            pads = full
        }
        guard pads.count == 2 * rank else { throw context.fail("pads has \(pads.count) values for rank \(rank)") }
        guard pads.allSatisfy({ $0 >= 0 }) else { throw context.unsupported("pads", "\(pads) (negative pads)") }
        let attributeFill = Double(try context.float("value", 0))
        let fill = context.optionalInput(2)?.doubleValues.first ?? attributeFill
        let shape = (0..<rank).map { x.shape[$0] + pads[$0] + pads[$0 + rank] }
        // Index count (the fill value) for padding, else the source element.
        var indices: [Int] = []
        indices.reserveCapacity(shape.reduce(1, *))
        let strides = Broadcast.strides(of: x.shape, in: x.shape)
        var index = [Int](repeating: 0, count: rank)
        for _ in 0..<shape.reduce(1, *) {
            var source = 0, inside = true
            for axis in 0..<rank {
                let i = index[axis] - pads[axis]
                if i < 0 || i >= x.shape[axis] { inside = false; break }
                source += i * strides[axis]
            }
            indices.append(inside ? source : x.count)
            var axis = rank - 1
            while axis >= 0 {
                index[axis] += 1
                if index[axis] < shape[axis] { break }
                index[axis] = 0
                axis -= 1
            }
        }
        let extended: Buffer.Storage
        switch x.storage {
        case .float(let v): extended = .float(v + [Float(fill)])
        case .double(let v): extended = .double(v + [fill])
        case .int64(let v): extended = .int64(v + [Int64(fill)])
        case .bool(let v): extended = .bool(v + [fill != 0])
        }
        return Buffer(shape: shape, storage: extended.picking(indices), integerType: x.integerType)
    }

    static func shape(_ context: NodeContext) throws(InterpreterError) -> Buffer {
        let x = try context.input(0)
        let rank = x.shape.count
        func bound(_ value: Int) -> Int { min(max(value < 0 ? value + rank : value, 0), rank) }
        let start = bound(try context.int("start", 0)), end = bound(try context.int("end", rank))
        let dims = start < end ? Array(x.shape[start..<end]) : []
        return Buffer(shape: [dims.count], storage: .int64(dims.map(Int64.init)))
    }

    static func gather(_ context: NodeContext) throws(InterpreterError) -> Buffer {
        let x = try context.input(0), indices = try context.input(1)
        let axis = try context.axis(try context.int("axis", 0), rank: x.shape.count)
        let (outer, size, inner) = Normalization.split(x.shape, at: axis)
        var positions: [Int] = []
        for raw in indices.int64Values {
            let i = Int(raw) < 0 ? Int(raw) + size : Int(raw)
            guard i >= 0, i < size else { throw context.fail("index \(raw) is out of range for axis size \(size)") }
            positions.append(i)
        }
        var offsets: [Int] = []
        offsets.reserveCapacity(outer * positions.count * inner)
        for o in 0..<outer {
            for p in positions { offsets.append(contentsOf: ((o * size + p) * inner)..<((o * size + p + 1) * inner)) }
        }
        let shape = Array(x.shape[..<axis]) + indices.shape + Array(x.shape[(axis + 1)...])
        return Buffer(shape: shape, storage: x.storage.picking(offsets), integerType: x.integerType)
    }

    static func constantOfShape(_ context: NodeContext) throws(InterpreterError) -> Buffer {
        let shape = try context.input(0).int64Values.map { Int($0) }
        guard shape.allSatisfy({ $0 >= 0 }) else { throw context.fail("shape \(shape) has a negative dimension") }
        let value = context.node.attribute("value")?.tensorValue.map { Buffer($0, precision: context.precision) }
            ?? Buffer(shape: [1], storage: context.precision == .float64 ? .double([0]) : .float([0]))
        guard value.count == 1 else { throw context.fail("value must hold one element") }
        return Buffer(shape: shape, storage: value.storage.repeating(shape.reduce(1, *)), integerType: value.integerType)
    }

    static func cast(_ context: NodeContext) throws(InterpreterError) -> Buffer {
        let x = try context.input(0)
        let code = try context.int("to", 0)
        guard let type = ElementType(rawValue: Int32(code)) else { throw context.unsupported("to", "\(code)") }
        switch type {
        case .float32, .float16, .bfloat16, .float64:
            // Floating types all compute in the run's precision.
            let values = x.doubleValues
            return Buffer(shape: x.shape, storage: context.precision == .float64 ? .double(values) : .float(values.map { Float($0) }))
        case .bool:
            return Buffer(shape: x.shape, storage: .bool(x.doubleValues.map { $0 != 0 }))
        default:
            return Buffer(shape: x.shape, storage: .int64(x.int64Values), integerType: type)
        }
    }

    static func constant(_ context: NodeContext) throws(InterpreterError) -> Buffer {
        let node = context.node
        if let tensor = node.attribute("value")?.tensorValue { return Buffer(tensor, precision: context.precision) }
        let precision = context.precision
        func floats(_ values: [Float], _ shape: [Int]) -> Buffer {
            Buffer(shape: shape, storage: precision == .float64 ? .double(values.map(Double.init)) : .float(values))
        }
        if let value = node.attribute("value_float")?.floatValue { return floats([value], []) }
        if let values = node.attribute("value_floats")?.floatsValue { return floats(values, [values.count]) }
        if let value = node.attribute("value_int")?.intValue { return Buffer(shape: [], storage: .int64([value])) }
        if let values = node.attribute("value_ints")?.intsValue { return Buffer(shape: [values.count], storage: .int64(values)) }
        throw context.unsupported("value", "(sparse or string constants)")
    }
}
