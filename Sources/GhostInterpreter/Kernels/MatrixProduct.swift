/// Gemm and (batched, broadcasting) MatMul through BLAS.
enum MatrixProduct {
    static func gemm(_ context: NodeContext) throws(InterpreterError) -> Buffer {
        let a = try context.input(0), b = try context.input(1), c = context.optionalInput(2)
        guard a.shape.count == 2, b.shape.count == 2 else { throw context.fail("A and B must be matrices, got \(a.shape) and \(b.shape)") }
        let transA = try context.int("transA", 0) != 0, transB = try context.int("transB", 0) != 0
        let alpha = try context.float("alpha", 1), beta = try context.float("beta", 1)
        let (m, k) = transA ? (a.shape[1], a.shape[0]) : (a.shape[0], a.shape[1])
        let (kb, n) = transB ? (b.shape[1], b.shape[0]) : (b.shape[0], b.shape[1])
        guard k == kb else { throw context.fail("inner dimensions \(k) and \(kb) differ") }
        if let c, Broadcast.shape(c.shape, [m, n]) != [m, n] { throw context.fail("C \(c.shape) does not broadcast to [\(m), \(n)]") }
        try checkBLASSizes(context, m, n, k, a.shape.last ?? 0, b.shape.last ?? 0)
        _ = try context.elementCount(of: [m, n])
        /// beta·C broadcast to [m, n], or zeros; alpha·A·B is added to it.
        func start<T: InterpreterScalar>(_ cv: [T]?) -> [T] {
            let zeros = [T](repeating: 0, count: m * n)
            guard let cv, let shape = c?.shape, beta != 0 else { return zeros }
            return Broadcast.apply(cv, shape, zeros, [m, n], into: [m, n]) { $0 * T(beta) + $1 }
        }
        func run<T: InterpreterScalar>(_ av: [T], _ bv: [T], _ cv: [T]?) -> [T] {
            var out = start(cv)
            guard m > 0, n > 0, k > 0 else { return out }
            av.withUnsafeBufferPointer { ap in
                bv.withUnsafeBufferPointer { bp in
                    out.withUnsafeMutableBufferPointer { op in
                        T.gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: T(alpha), a: ap.baseAddress!, lda: a.shape[1],
                               b: bp.baseAddress!, ldb: b.shape[1], beta: c == nil || beta == 0 ? 0 : 1, c: op.baseAddress!, ldc: n)
                    }
                }
            }
            return out
        }
        // B constant and packed when the interpreter was made (in the run's precision): Yᵀ = Bᵀ·Aᵀ
        // by the packed kernel, then Y = alpha·Y + beta·C as BLAS would combine them.
        func packedRun<T: InterpreterScalar>(_ packed: PackedWeights, _ av: [T], _ cv: [T]?) -> [T] {
            var out = start(cv)
            // Aᵀ [k × m]: A itself when transA, or when A is one row; else a transposed copy.
            let columns = transA || m == 1 ? av : [T](filling: k * m) { t in
                for row in 0..<m { for column in 0..<k { t.initializeElement(at: column * m + row, to: av[row * k + column]) } }
            }
            var product = [T](filling: n * m) { _ in }
            columns.withUnsafeBufferPointer { ap in
                product.withUnsafeMutableBufferPointer { pp in
                    _ = packed.multiply(group: 0, ap.baseAddress!, ldb: m, n: m, into: pp.baseAddress!, ldc: m)
                }
            }
            let scale = T(alpha), accumulate = c != nil && beta != 0
            for row in 0..<m {
                for column in 0..<n {
                    let value = scale * product[column * m + row]
                    out[row * n + column] = accumulate ? value + out[row * n + column] : value
                }
            }
            return out
        }
        if let packed = context.prepared?.packedWeights, packed.rows == n, packed.columns == k, m > 0, c == nil || c?.typeName == a.typeName {
            switch (a.storage, c?.storage) {
            case (.float(let av), .float(let cv)?) where packed.holds(Float.self):
                return Buffer(shape: [m, n], storage: .float(packedRun(packed, av, cv)))
            case (.float(let av), nil) where packed.holds(Float.self):
                return Buffer(shape: [m, n], storage: .float(packedRun(packed, av, nil)))
            case (.double(let av), .double(let cv)?) where packed.holds(Double.self):
                return Buffer(shape: [m, n], storage: .double(packedRun(packed, av, cv)))
            case (.double(let av), nil) where packed.holds(Double.self):
                return Buffer(shape: [m, n], storage: .double(packedRun(packed, av, nil)))
            default: break  // BLAS below
            }
        }
        switch (a.storage, b.storage, c?.storage) {
        case (.float(let av), .float(let bv), .float(let cv)?): return Buffer(shape: [m, n], storage: .float(run(av, bv, cv)))
        case (.float(let av), .float(let bv), nil): return Buffer(shape: [m, n], storage: .float(run(av, bv, nil)))
        case (.double(let av), .double(let bv), .double(let cv)?): return Buffer(shape: [m, n], storage: .double(run(av, bv, cv)))
        case (.double(let av), .double(let bv), nil): return Buffer(shape: [m, n], storage: .double(run(av, bv, nil)))
        default: throw context.fail("A, B and C must be floating point of one precision")
        }
    }

    static func matMul(_ context: NodeContext) throws(InterpreterError) -> Buffer {
        let a = try context.input(0), b = try context.input(1)
        guard !a.shape.isEmpty, !b.shape.isEmpty else { throw context.fail("MatMul needs inputs of rank ≥ 1") }
        // numpy: 1-D operands gain a dimension that is removed again from the result.
        let aShape = a.shape.count == 1 ? [1] + a.shape : a.shape
        let bShape = b.shape.count == 1 ? b.shape + [1] : b.shape
        let (m, k) = (aShape[aShape.count - 2], aShape[aShape.count - 1])
        let (kb, n) = (bShape[bShape.count - 2], bShape[bShape.count - 1])
        guard k == kb else { throw context.fail("inner dimensions \(k) and \(kb) differ") }
        guard let batch = Broadcast.shape(Array(aShape.dropLast(2)), Array(bShape.dropLast(2))) else {
            throw context.fail("batch dimensions of \(a.shape) and \(b.shape) do not broadcast")
        }
        var shape = batch + [m, n]
        if a.shape.count == 1 { shape.remove(at: shape.count - 2) }
        if b.shape.count == 1 { shape.removeLast() }
        try checkBLASSizes(context, m, n, k)
        let batches = try context.elementCount(of: batch)
        _ = try context.elementCount(of: shape)
        let aStrides = Broadcast.strides(of: Array(aShape.dropLast(2)), in: batch)
        let bStrides = Broadcast.strides(of: Array(bShape.dropLast(2)), in: batch)
        func offset(_ flat: Int, _ strides: [Int]) -> Int { Broadcast.offset(flat, in: batch, strides: strides) }
        // B one matrix for every batch and A's batches laid out in order: one product of batches·m rows.
        let fold = bStrides.allSatisfy { $0 == 0 } && aStrides == Broadcast.strides(of: batch, in: batch)
        let (work, overflow) = (fold ? batches * m : m).multipliedReportingOverflow(by: n * k)
        let packed = !overflow && BatchedProduct.handles(work: work)
        func run<T: InterpreterScalar>(_ av: [T], _ bv: [T]) -> [T] {
            let count = batches * m * n
            // Zeros only when there is nothing to add up; otherwise every element is written
            // (the packed kernel overwrites C, and BLAS with beta = 0 stores without reading C).
            guard count > 0, k > 0 else { return [T](repeating: 0, count: count) }
            return [T](filling: count) { out in
                av.withUnsafeBufferPointer { ap in
                    bv.withUnsafeBufferPointer { bp in
                        if packed {
                            BatchedProduct.multiply(ap.baseAddress!, bp.baseAddress!, into: out.baseAddress!, batches: batches, m: m, n: n, k: k,
                                                    fold: fold, aOffset: { offset($0, aStrides) }, bOffset: { offset($0, bStrides) })
                            return
                        }
                        for index in 0..<batches {
                            T.gemm(transA: false, transB: false, m: m, n: n, k: k, alpha: 1,
                                   a: ap.baseAddress! + offset(index, aStrides) * m * k, lda: k,
                                   b: bp.baseAddress! + offset(index, bStrides) * k * n, ldb: n,
                                   beta: 0, c: out.baseAddress! + index * m * n, ldc: n)
                        }
                    }
                }
            }
        }
        switch (a.storage, b.storage) {
        case (.float(let av), .float(let bv)): return Buffer(shape: shape, storage: .float(run(av, bv)))
        case (.double(let av), .double(let bv)): return Buffer(shape: shape, storage: .double(run(av, bv)))
        default: throw context.fail("A and B must be floating point of one precision")
        }
    }

    /// CBLAS takes 32-bit sizes.
    private static func checkBLASSizes(_ context: NodeContext, _ sizes: Int...) throws(InterpreterError) {
        guard sizes.allSatisfy({ $0 <= Int(Int32.max) }) else {
            throw context.fail("matrix dimensions \(sizes) exceed BLAS's 32-bit sizes")
        }
    }
}
