/// Einsum: out[output labels] = Σ over the other labels of Π operands[their labels].
///
/// Each operand first takes its diagonals (a repeated label) and sums the labels nothing else
/// uses; operands are then contracted left to right, each pair as a batched matrix product
/// (shared labels still needed are the batch, shared labels not needed are contracted, the
/// rest are rows and columns) through BLAS; last, the result is permuted to the output order.
enum Einsum {
    static func evaluate(_ context: NodeContext) throws(InterpreterError) -> Buffer {
        let equation = try context.string("equation", "")
        let inputs = try (0..<context.node.inputs.count).map { index throws(InterpreterError) in try context.input(index) }
        guard !inputs.isEmpty else { throw context.fail("needs at least one operand") }
        let parsed: EinsumEquation
        switch EinsumEquation.parse(equation, ranks: inputs.map(\.shape.count)) {
        case .success(let value): parsed = value
        case .failure(.syntax(let problem)): throw context.fail("equation \"\(equation)\" cannot be parsed: \(problem)")
        case .failure(.operands(let problem)): throw context.fail("equation \"\(equation)\": \(problem)")
        }
        // One size per label: equal wherever the label appears, except that axes of size 1
        // broadcast (ONNX Runtime broadcasts letters as well as ellipsis axes).
        var sizes: [Int: Int] = [:]
        for (index, (labels, input)) in zip(parsed.operands, inputs).enumerated() {
            for (label, size) in zip(labels, input.shape) {
                guard let known = sizes[label], known != size else { sizes[label] = size; continue }
                guard known == 1 || size == 1 else {
                    throw context.fail("equation \"\(equation)\": operand \(index) has size \(size) where another axis with its label has \(known)")
                }
                sizes[label] = max(known, size)
            }
        }
        let outputShape = parsed.output.map { sizes[$0] ?? 1 }
        _ = try context.elementCount(of: outputShape)
        func run<T: EinsumScalar>(_ values: [[T]]) throws(InterpreterError) -> [T] {
            var operands = zip(values, zip(inputs, parsed.operands)).map { Labeled(values: $0, shape: $1.0.shape, labels: $1.1) }
            for index in operands.indices {
                let others = parsed.operands.enumerated().filter { $0.offset != index }.flatMap(\.element)
                operands[index] = try operands[index].prepared(sizes: sizes, keeping: Set(parsed.output + others), context)
            }
            var result = operands[0]
            for index in 1..<max(operands.count, 1) {
                let later = Set(parsed.output + parsed.operands[(index + 1)...].joined())
                result = try contract(result.summing(keeping: later.union(operands[index].labels)),
                                      operands[index].summing(keeping: later.union(result.labels)), keeping: later, context)
            }
            result = result.summing(keeping: Set(parsed.output))
            // Output labels the result lacks were of size 1 everywhere: stride 0.
            let strides = ShapeOperators.contiguousStrides(result.shape)
            let outputStrides = parsed.output.map { label in result.labels.firstIndex(of: label).map { strides[$0] } ?? 0 }
            return Reduction.gather(result.values, shape: outputShape, strides: outputStrides)
        }
        switch inputs[0].storage {
        case .float:
            let values = try inputs.map { buffer throws(InterpreterError) -> [Float] in
                guard case .float(let v) = buffer.storage else { throw context.fail("operands must share one element type") }
                return v
            }
            return Buffer(shape: outputShape, storage: .float(try run(values)))
        case .double:
            let values = try inputs.map { buffer throws(InterpreterError) -> [Double] in
                guard case .double(let v) = buffer.storage else { throw context.fail("operands must share one element type") }
                return v
            }
            return Buffer(shape: outputShape, storage: .double(try run(values)))
        case .int64:
            let values = try inputs.map { buffer throws(InterpreterError) -> [Int64] in
                guard case .int64(let v) = buffer.storage else { throw context.fail("operands must share one element type") }
                return v
            }
            return Buffer(shape: outputShape, storage: .int64(try run(values)), integerType: inputs[0].integerType)
        case .bool: throw context.fail("expects numeric operands, got bool")
        }
    }

    /// A tensor whose axes carry labels.
    struct Labeled<T: EinsumScalar> {
        var values: [T]
        var shape: [Int]
        var labels: [Int]

        /// The diagonal over repeated labels, without size-1 axes that broadcast against a
        /// larger size, and summed over the labels not in `keeping`.
        func prepared(sizes: [Int: Int], keeping: Set<Int>, _ context: NodeContext) throws(InterpreterError) -> Labeled {
            let strides = ShapeOperators.contiguousStrides(shape)
            var unique: [Int] = [], uniqueShape: [Int] = [], uniqueStrides: [Int] = []
            for (axis, label) in labels.enumerated() {
                if let existing = unique.firstIndex(of: label) {
                    guard uniqueShape[existing] == shape[axis] else {
                        throw context.fail("a repeated label has sizes \(uniqueShape[existing]) and \(shape[axis])")
                    }
                    uniqueStrides[existing] += strides[axis]
                } else if shape[axis] != 1 || sizes[label] == 1 {
                    unique.append(label)
                    uniqueShape.append(shape[axis])
                    uniqueStrides.append(strides[axis])
                }
            }
            var result = self
            if unique != labels {
                result = Labeled(values: Reduction.gather(values, shape: uniqueShape, strides: uniqueStrides), shape: uniqueShape, labels: unique)
            }
            return result.summing(keeping: keeping)
        }

        /// Summed over every label not in `keeping`.
        func summing(keeping: Set<Int>) -> Labeled {
            let axes = Set(labels.indices.filter { !keeping.contains(labels[$0]) })
            guard !axes.isEmpty else { return self }
            let kept = labels.indices.filter { !axes.contains($0) }
            return Labeled(values: Reduction.reduce(values, shape: shape, axes: axes, .sum, identity: T.zero),
                           shape: kept.map { shape[$0] }, labels: kept.map { labels[$0] })
        }

        /// The axes in the given label order, copied only when the order changes.
        func permuted(_ order: [Int]) -> [T] {
            guard order != labels else { return values }
            let strides = ShapeOperators.contiguousStrides(shape)
            let positions = order.compactMap { labels.firstIndex(of: $0) }
            return Reduction.gather(values, shape: positions.map { shape[$0] }, strides: positions.map { strides[$0] })
        }

        func size(_ group: [Int]) -> Int { group.reduce(1) { $0 * shape[labels.firstIndex(of: $1) ?? 0] } }
    }

    /// a·b over their shared labels not in `keeping`; shared labels in `keeping` are the batch.
    /// Each operand is laid out as [batch, rows, shared] or [batch, shared, rows], whichever is
    /// its present order, so BLAS's transpose flags save the copy where they can.
    static func contract<T: EinsumScalar>(_ a: Labeled<T>, _ b: Labeled<T>, keeping: Set<Int>,
                                          _ context: NodeContext) throws(InterpreterError) -> Labeled<T> {
        let inB = Set(b.labels), inA = Set(a.labels)
        let batch = a.labels.filter { inB.contains($0) && keeping.contains($0) }
        let shared = a.labels.filter { inB.contains($0) && !keeping.contains($0) }
        let rows = a.labels.filter { !inB.contains($0) }, columns = b.labels.filter { !inA.contains($0) }
        let (count, m, n, k) = (a.size(batch), a.size(rows), b.size(columns), a.size(shared))
        let shape = batch.map { a.shape[a.labels.firstIndex(of: $0) ?? 0] } + rows.map { a.shape[a.labels.firstIndex(of: $0) ?? 0] }
            + columns.map { b.shape[b.labels.firstIndex(of: $0) ?? 0] }
        let total = try context.elementCount(of: shape)
        guard [m, n, k].allSatisfy({ $0 <= Int(Int32.max) }) else {
            throw context.fail("matrix dimensions \([m, n, k]) exceed BLAS's 32-bit sizes")
        }
        let transA = a.labels == batch + shared + rows && a.labels != batch + rows + shared
        let transB = b.labels == batch + columns + shared && b.labels != batch + shared + columns
        let left = a.permuted(batch + (transA ? shared + rows : rows + shared))
        let right = b.permuted(batch + (transB ? columns + shared : shared + columns))
        var out = [T](repeating: T.zero, count: total)
        if m > 0, n > 0, k > 0 {
            left.withUnsafeBufferPointer { lp in
                right.withUnsafeBufferPointer { rp in
                    out.withUnsafeMutableBufferPointer { op in
                        guard let l = lp.baseAddress, let r = rp.baseAddress, let o = op.baseAddress else { return }
                        // Many tiny products (a Hadamard product is one per element) cost more
                        // in BLAS calls than in arithmetic: those run as plain loops.
                        let tiny = m * n * k < 16
                        for item in 0..<count {
                            let (ai, bi, ci) = (l + item * m * k, r + item * k * n, o + item * m * n)
                            if tiny {
                                plainProduct(transA: transA, transB: transB, m: m, n: n, k: k, a: ai, lda: transA ? m : k,
                                             b: bi, ldb: transB ? k : n, c: ci)
                            } else {
                                T.product(transA: transA, transB: transB, m: m, n: n, k: k, a: ai, lda: transA ? m : k,
                                          b: bi, ldb: transB ? k : n, c: ci)
                            }
                        }
                    }
                }
            }
        }
        return Labeled(values: out, shape: shape, labels: batch + rows + columns)
    }
}

/// Element types einsum multiplies matrices of: c = op(a)·op(b), row-major, c overwritten.
protocol EinsumScalar: ReducibleScalar {
    static func product(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, a: UnsafePointer<Self>, lda: Int,
                        b: UnsafePointer<Self>, ldb: Int, c: UnsafeMutablePointer<Self>)
}

extension Float: EinsumScalar {
    static func product(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int,
                        b: UnsafePointer<Float>, ldb: Int, c: UnsafeMutablePointer<Float>) {
        gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 1, a: a, lda: lda, b: b, ldb: ldb, beta: 0, c: c, ldc: n)
    }
}

extension Double: EinsumScalar {
    static func product(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, a: UnsafePointer<Double>, lda: Int,
                        b: UnsafePointer<Double>, ldb: Int, c: UnsafeMutablePointer<Double>) {
        gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 1, a: a, lda: lda, b: b, ldb: ldb, beta: 0, c: c, ldc: n)
    }
}

extension Int64: EinsumScalar {
    /// Integer products have no BLAS: a plain loop, wrapping as the ONNX types do.
    static func product(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, a: UnsafePointer<Int64>, lda: Int,
                        b: UnsafePointer<Int64>, ldb: Int, c: UnsafeMutablePointer<Int64>) {
        Einsum.plainProduct(transA: transA, transB: transB, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, c: c)
    }
}

extension Einsum {
    /// c = op(a)·op(b) by the definition, row-major, c overwritten.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    @_specialize(where T == Int64)
    static func plainProduct<T: ReducibleScalar>(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, a: UnsafePointer<T>, lda: Int,
                                                 b: UnsafePointer<T>, ldb: Int, c: UnsafeMutablePointer<T>) {
        for i in 0..<m {
            for j in 0..<n {
                var sum = T.zero
                for p in 0..<k {
                    let x = transA ? a[p * lda + i] : a[i * lda + p], y = transB ? b[j * ldb + p] : b[p * ldb + j]
                    sum = T.add(sum, T.multiply(x, y))
                }
                c[i * n + j] = sum
            }
        }
    }
}
