import GhostIR

/// Size, Shrink, CastLike and Det.
enum IndexingExtras {
    /// Size: the number of elements, an int64 scalar.
    static func size(_ context: NodeContext) throws(InterpreterError) -> Buffer {
        Buffer(shape: [], storage: .int64([Int64(try context.input(0).count)]))
    }

    /// Shrink: x + bias where x < −lambd, x − bias where x > lambd, 0 elsewhere (NaN too). As
    /// ONNX Runtime: the comparison is in float32; an integer x computes x ± bias in float32 and
    /// truncates the result back to its type.
    static func shrink(_ context: NodeContext) throws(InterpreterError) -> Buffer {
        let x = try context.input(0)
        let bias = try context.float("bias", 0), lambd = try context.float("lambd", 0.5)
        func shrunk<T: InterpreterScalar>(_ values: [T]) -> [T] {
            let b = T(bias)
            return values.map { value in
                let v = Float(value)
                return v < -lambd ? value + b : v > lambd ? value - b : 0
            }
        }
        switch x.storage {
        case .float(let v): return Buffer(shape: x.shape, storage: .float(shrunk(v)))
        case .double(let v): return Buffer(shape: x.shape, storage: .double(shrunk(v)))
        case .int64(let v):
            let out = v.map { value -> Int64 in
                let f = Float(value)
                let result: Float = f < -lambd ? f + bias : f > lambd ? f - bias : 0
                return Constants.wrap(Buffer.truncated(Double(result)), to: x.integerType)
            }
            return Buffer(shape: x.shape, storage: .int64(out), integerType: x.integerType)
        case .bool: throw context.fail("Shrink is not defined for bool")
        }
    }

    /// CastLike: Cast to the type of input 1 (through `Constants.cast`, with `to` set). A float
    /// target is the type input 1 is declared with when known, so that a float16 or bfloat16
    /// target rounds as Cast does; the interpreter holds those as float.
    static func castLike(_ context: NodeContext) throws(InterpreterError) -> Buffer {
        let x = try context.input(0), like = try context.input(1)
        let target: ElementType
        switch like.storage {
        case .float, .double:
            let declared = context.source.inputTypes.count > 1 ? context.source.inputTypes[1] : nil
            target = declared.flatMap { $0.isFloatingPoint ? $0 : nil } ?? (context.precision == .float64 ? .float64 : .float32)
        case .int64: target = like.integerType
        case .bool: target = .bool
        }
        var node = context.node
        node.attributes.removeAll { $0.name == "to" }
        node.attributes.append(Attribute(name: "to", value: .int(Int64(target.rawValue))))
        let cast = NodeContext(source: NodeSource(node: node, name: context.name), inputs: [x], opset: context.opset,
                               precision: context.precision)
        return try Constants.cast(cast)
    }

    /// Det: the determinant of each matrix of the last two (square) axes, by LU factorization
    /// with partial pivoting (as ONNX Runtime's Eigen: l = a/pivot, then a −= l·u, det = ±∏ pivots).
    static func det(_ context: NodeContext) throws(InterpreterError) -> Buffer {
        let x = try context.input(0)
        let rank = x.shape.count
        guard rank >= 2, x.shape[rank - 1] == x.shape[rank - 2] else {
            throw context.fail("the input must be [*, M, M], got \(x.shape)")
        }
        let shape = Array(x.shape[..<(rank - 2)])
        let n = x.shape[rank - 1]
        switch x.storage {
        case .float(let v): return Buffer(shape: shape, storage: .float(determinants(v, n, count: shape.reduce(1, *))))
        case .double(let v): return Buffer(shape: shape, storage: .double(determinants(v, n, count: shape.reduce(1, *))))
        default: throw context.fail("Det is defined for floating-point inputs, got \(x.typeName)")
        }
    }

    private static func determinants<T: InterpreterScalar>(_ values: [T], _ n: Int, count: Int) -> [T] {
        let plane = n * n
        // The determinant of a 0 × 0 matrix is the empty product.
        guard plane > 0 else { return [T](repeating: 1, count: count) }
        var results: [T] = []
        results.reserveCapacity(values.count / plane)
        for start in stride(from: 0, to: values.count, by: plane) {
            var a = Array(values[start..<(start + plane)])
            var negate = false
            for k in 0..<n {
                var pivotRow = k, largest = abs(a[k * n + k])
                for i in (k + 1)..<n where abs(a[i * n + k]) > largest {
                    largest = abs(a[i * n + k])
                    pivotRow = i
                }
                if pivotRow != k {
                    for j in 0..<n { a.swapAt(k * n + j, pivotRow * n + j) }
                    negate.toggle()
                }
                let pivot = a[k * n + k]
                // A zero column leaves the factor singular; Eigen skips its elimination too.
                guard pivot != 0 else { continue }
                for i in (k + 1)..<n {
                    let l = a[i * n + k] / pivot
                    a[i * n + k] = l
                    for j in (k + 1)..<n { a[i * n + j] -= l * a[k * n + j] }
                }
            }
            var product: T = 1
            for k in 0..<n { product *= a[k * n + k] }
            results.append(negate ? -product : product)
        }
        return results
    }
}
