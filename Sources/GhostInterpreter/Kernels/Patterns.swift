import GhostIR

/// Trilu, EyeLike and OneHot: tensors whose elements follow from their position.
enum Patterns {
    /// Trilu: over the last two axes, keeps x[i, j] where j − i ≥ k (`upper`, the default) or
    /// j − i ≤ k (lower) and sets the rest to 0; k is the optional scalar input 1 (default 0).
    static func trilu(_ context: NodeContext) throws(InterpreterError) -> Buffer {
        let x = try context.input(0)
        guard x.shape.count >= 2 else { throw context.fail("the input must have rank ≥ 2, got \(x.shape)") }
        var k = 0
        if let diagonal = context.optionalInput(1) {
            guard diagonal.count == 1, !diagonal.isFloatingPoint else {
                throw context.fail("k must be an integer scalar, got \(diagonal.typeName) \(diagonal.shape)")
            }
            k = Int(clamping: diagonal.int64Values[0])
        }
        let rows = x.shape[x.shape.count - 2], columns = x.shape[x.shape.count - 1]
        // Beyond ±(rows + columns) every k keeps all or nothing; clamping keeps i + k exact.
        let bound = rows + columns
        let mask = Triangle(rows: rows, columns: columns, k: min(max(k, -bound), bound), upper: try context.int("upper", 1) != 0)
        return Buffer(shape: x.shape, storage: x.storage.moved(by: mask), integerType: x.integerType)
    }

    /// Row i of each matrix keeps the columns j ≥ i + k (upper) or j ≤ i + k (lower).
    struct Triangle: ElementMover {
        let rows: Int, columns: Int, k: Int, upper: Bool

        func callAsFunction<T>(_ values: [T], zero: T) -> [T] {
            var out = values
            let plane = rows * columns
            guard plane > 0 else { return out }
            out.withUnsafeMutableBufferPointer { buffer in
                for start in stride(from: 0, to: buffer.count, by: plane) {
                    for i in 0..<rows {
                        let row = buffer.baseAddress! + start + i * columns
                        let edge = i + k
                        // Zero columns [from, to): below the diagonal for upper, above it for lower.
                        let (from, to) = upper ? (0, min(max(edge, 0), columns)) : (min(max(edge + 1, 0), columns), columns)
                        if to > from { (row + from).update(repeating: zero, count: to - from) }
                    }
                }
            }
            return out
        }
    }

    /// EyeLike: a matrix of the input's shape, 1 where j − i = `k` and 0 elsewhere; of `dtype`
    /// (floats in the run's precision) or the input's type.
    static func eyeLike(_ context: NodeContext) throws(InterpreterError) -> Buffer {
        let x = try context.input(0)
        guard x.shape.count == 2 else { throw context.fail("the input must be 2-D, got \(x.shape)") }
        let k = try context.int("k", 0)
        let rows = x.shape[0], columns = x.shape[1]
        var ones: [Int] = []
        for i in 0..<rows {
            let (j, overflow) = i.addingReportingOverflow(k)
            if !overflow, j >= 0, j < columns { ones.append(i * columns + j) }
        }
        var kind = x.storage, integerType = x.integerType
        if context.node.attribute("dtype") != nil {
            let code = try context.int("dtype", 1)
            guard let raw = Int32(exactly: code), let type = ElementType(rawValue: raw) else {
                throw context.unsupported("dtype", "\(code) (not a numeric or bool ONNX type the interpreter holds)")
            }
            integerType = .int64
            switch type {
            case .float32, .float64, .float16, .bfloat16: kind = context.precision == .float64 ? .double([]) : .float([])
            case .bool: kind = .bool([])
            default:
                kind = .int64([])
                integerType = type
            }
        }
        let storage: Buffer.Storage = switch kind {
        case .float: .float(place(ones, count: rows * columns, one: 1, zero: 0))
        case .double: .double(place(ones, count: rows * columns, one: 1, zero: 0))
        case .int64: .int64(place(ones, count: rows * columns, one: 1, zero: 0))
        case .bool: .bool(place(ones, count: rows * columns, one: true, zero: false))
        }
        return Buffer(shape: x.shape, storage: storage, integerType: integerType)
    }

    private static func place<T>(_ positions: [Int], count: Int, one: T, zero: T) -> [T] {
        var out = [T](repeating: zero, count: count)
        for position in positions { out[position] = one }
        return out
    }

    /// OneHot: output rank is the indices' plus one, the new axis (`axis`, default −1) of length
    /// `depth`; out[…, d, …] = values[1] where d is the index (negative ones count from the end)
    /// and values[0] elsewhere; an index outside −depth..<depth gives a row of values[0]. Float
    /// indices and depth are truncated toward zero, as ONNX Runtime does.
    static func oneHot(_ context: NodeContext) throws(InterpreterError) -> Buffer {
        let indices = try context.input(0), depthInput = try context.input(1), values = try context.input(2)
        if case .bool = indices.storage { throw context.fail("indices must be numeric, got bool") }
        let indexShape = indices.shape
        guard depthInput.count == 1 else { throw context.fail("depth must hold one element, got shape \(depthInput.shape)") }
        guard values.count == 2 else { throw context.fail("values must hold two elements [off, on], got shape \(values.shape)") }
        let rawDepth = depthInput.int64Values[0]
        guard rawDepth >= 1 else { throw context.fail("depth \(depthInput.doubleValues[0]) must be positive") }
        let depth = Int(clamping: rawDepth)
        let axis = try context.axis(try context.int("axis", -1), rank: indexShape.count + 1)
        var shape = indexShape
        shape.insert(depth, at: axis)
        let count = try context.elementCount(of: shape)
        let inner = indexShape[axis...].reduce(1, *)
        var positions: [Int] = []
        positions.reserveCapacity(indices.count)
        for (flat, raw) in indices.int64Values.enumerated() {
            let index = raw < 0 ? raw &+ rawDepth : raw
            guard index >= 0, index < rawDepth else { continue }
            let (outer, within) = flat.quotientAndRemainder(dividingBy: inner)
            positions.append((outer * depth + Int(index)) * inner + within)
        }
        let storage: Buffer.Storage = switch values.storage {
        case .float(let v): .float(place(positions, count: count, one: v[1], zero: v[0]))
        case .double(let v): .double(place(positions, count: count, one: v[1], zero: v[0]))
        case .int64(let v): .int64(place(positions, count: count, one: v[1], zero: v[0]))
        case .bool(let v): .bool(place(positions, count: count, one: v[1], zero: v[0]))
        }
        return Buffer(shape: shape, storage: storage, integerType: values.integerType)
    }
}
