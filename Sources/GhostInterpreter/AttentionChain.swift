import CKernels
import GhostIR

/// Attention as exporters write it, MatMul(Q, K) → S, Softmax(S) over the last axis → P,
/// MatMul(P, V) → O, where S and P have no other reader: the plan runs the three nodes as one
/// step that never materializes S or P. For each batch (head) and each block of R rows of Q:
/// S_blk = Q_blk·K, the softmax of S_blk's rows, O_blk = P_blk·V, all in a scratch block that
/// stays in cache (MobileViT-XXS: [4, 4, 256, 256] scores, 4 MB per attention, written, read,
/// written, packed and read again by the unfused nodes).
///
/// Same bits as the three nodes: each element of S and O is the k-ordered FMA chain from +0 of
/// the packed GEMM (ghost_gemm.h; it does not depend on the row blocking) and each row of P is the
/// Softmax node's row loop (`softmaxRows`). So the fused path is taken only where the unfused
/// MatMuls would take the packed GEMM (`BatchedProduct.handles`, decided on the same sizes) and
/// the Softmax's lanes are the last axis; anything else (OpenBLAS-sized products, 1-D operands,
/// a V that widens the batch, integers, another axis) runs the three nodes one by one, with their
/// errors. Runs that keep intermediates do not fuse.
enum AttentionChain {
    /// `steps` with every MatMul → Softmax → MatMul chain replaced by one step at the second
    /// MatMul's position (where V, the last input to be ready, is known to be). A value that is a
    /// graph output or read outside the chain is never skipped.
    static func fusing(_ steps: [ExecutionPlan.Step], constants: [Int: Buffer], graphOutputs: Set<Int>,
                       opset: Int64, precision: Precision) -> [ExecutionPlan.Step] {
        let readers = StepReaders(steps, graphOutputs: graphOutputs)
        func single(_ position: Int, _ opType: String, arity: Int) -> Int? {
            let step = steps[position]
            guard step.operation.opType == opType, step.inputs.count == arity, step.inputs.allSatisfy({ $0 >= 0 }),
                  step.outputs.count == 1, step.outputs[0] >= 0 else { return nil }
            return step.outputs[0]
        }
        var chains: [Int: (first: Int, softmax: Int, axis: Int)] = [:]
        var absorbed = Set<Int>()
        for position in steps.indices {
            guard let scores = single(position, "MatMul", arity: 2), let softmax = readers.soleReader(of: scores), softmax > position,
                  steps[softmax].inputs == [scores], let probabilities = single(softmax, "Softmax", arity: 1),
                  let second = readers.soleReader(of: probabilities), second > softmax, steps[second].inputs.first == probabilities,
                  steps[second].inputs.last != probabilities, single(second, "MatMul", arity: 2) != nil,
                  !absorbed.contains(second) else { continue }
            let context = NodeContext(source: steps[softmax].source, inputs: [], opset: opset, precision: precision)
            guard let axis = try? context.int("axis", opset >= 13 ? -1 : 1) else { continue }
            chains[second] = (position, softmax, axis)
            absorbed.formUnion([position, softmax])
        }
        guard !chains.isEmpty else { return steps }
        var result: [ExecutionPlan.Step] = []
        result.reserveCapacity(steps.count - 2 * chains.count)
        for (position, step) in steps.enumerated() where !absorbed.contains(position) {
            guard let chain = chains[position] else {
                result.append(step)
                continue
            }
            let parts = [steps[chain.first], steps[chain.softmax], step]
            result.append(fusedStep(parts, axis: chain.axis, constants: constants, opset: opset, precision: precision))
        }
        return result
    }

    private static func fusedStep(_ parts: [ExecutionPlan.Step], axis: Int, constants: [Int: Buffer],
                                  opset: Int64, precision: Precision) -> ExecutionPlan.Step {
        let inputs = parts[0].inputs + [parts[2].inputs[1]]
        let operation = OperatorDefinition("Attention (MatMul → Softmax → MatMul)", "") { context throws(InterpreterError) -> Buffer in
            let q = try context.input(0), k = try context.input(1), v = try context.input(2)
            if let plan = Plan(q.shape, k.shape, v.shape, softmaxAxis: axis) {
                switch (q.storage, k.storage, v.storage) {
                case let (.float(a), .float(b), .float(c)):
                    return Buffer(shape: plan.shape, storage: .float(run(plan, a, b, c)))
                case let (.double(a), .double(b), .double(c)):
                    return Buffer(shape: plan.shape, storage: .double(run(plan, a, b, c)))
                default: break
                }
            }
            return try oneByOne(parts, q, k, v, inputs: inputs, constants: constants, opset: opset, precision: precision)
        }
        return ExecutionPlan.Step(source: parts[0].source, operation: operation, inputs: inputs, outputs: parts[2].outputs)
    }

    /// The shapes of a chain the fused loop computes exactly as the three nodes would.
    struct Plan {
        let shape: [Int]
        let batches: Int, m: Int, d: Int, n: Int, e: Int
        /// Batch strides (in matrices) of Q, K and V within S's batch shape.
        let qStrides: [Int], kStrides: [Int], vStrides: [Int]
        let batch: [Int]

        init?(_ q: [Int], _ k: [Int], _ v: [Int], softmaxAxis: Int) {
            guard q.count >= 2, k.count >= 2, v.count >= 2 else { return nil }
            let (m, d) = (q[q.count - 2], q[q.count - 1])
            let (kd, n) = (k[k.count - 2], k[k.count - 1])
            let (vn, e) = (v[v.count - 2], v[v.count - 1])
            guard d == kd, n == vn, m > 0, d > 0, n > 0, e > 0,
                  [m, d, n, e].allSatisfy({ $0 <= Int(Int32.max) }),
                  let batch = Broadcast.shape(Array(q.dropLast(2)), Array(k.dropLast(2))),
                  Broadcast.shape(batch, Array(v.dropLast(2))) == batch, v.count <= batch.count + 2 else { return nil }
            // The Softmax's lanes must be the rows of S (rank batch + 2): from opset 13 its one
            // axis, before it the trailing axes from `axis`; both are the last axis alone here.
            let rank = batch.count + 2
            guard softmaxAxis == rank - 1 || softmaxAxis == -1 else { return nil }
            var batches = 1
            for size in batch {
                let (product, overflow) = batches.multipliedReportingOverflow(by: size)
                guard !overflow else { return nil }
                batches = product
            }
            guard batches > 0 else { return nil }
            let qStrides = Broadcast.strides(of: Array(q.dropLast(2)), in: batch)
            let kStrides = Broadcast.strides(of: Array(k.dropLast(2)), in: batch)
            let vStrides = Broadcast.strides(of: Array(v.dropLast(2)), in: batch)
            // The unfused MatMuls' choice of kernel, on the same sizes (MatrixProduct.matMul).
            func packed(rows: Int, foldable: Bool, _ inner: Int, _ columns: Int) -> Bool {
                let (perRow, overflow1) = inner.multipliedReportingOverflow(by: columns)
                let (work, overflow2) = (foldable ? batches * rows : rows).multipliedReportingOverflow(by: perRow)
                return !overflow1 && !overflow2 && BatchedProduct.handles(work: work)
            }
            let contiguous = Broadcast.strides(of: batch, in: batch)
            guard packed(rows: m, foldable: kStrides.allSatisfy { $0 == 0 } && qStrides == contiguous, d, n),
                  packed(rows: m, foldable: vStrides.allSatisfy { $0 == 0 }, n, e) else { return nil }
            let elements = batches.multipliedReportingOverflow(by: m)
            guard !elements.overflow, !elements.partialValue.multipliedReportingOverflow(by: max(n, e)).overflow,
                  elements.partialValue * max(n, e) <= Interpreter.maximumElementCount else { return nil }
            self.shape = batch + [m, e]
            self.batches = batches
            (self.m, self.d, self.n, self.e) = (m, d, n, e)
            (self.qStrides, self.kStrides, self.vStrides) = (qStrides, kStrides, vStrides)
            self.batch = batch
        }

        func offset(_ flat: Int, _ strides: [Int]) -> Int { Broadcast.offset(flat, in: batch, strides: strides) }

        /// Rows per block: a block of S (R × n) of about 64 KB, whole panels of 8 rows.
        var blockRows: Int {
            let rows = max(8, (16384 / n) / 8 * 8)
            return min(m, rows)
        }
    }

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func run<T: InterpreterScalar>(_ plan: Plan, _ q: [T], _ k: [T], _ v: [T]) -> [T] {
        let (m, d, n, e) = (plan.m, plan.d, plan.n, plan.e)
        let rows = plan.blockRows
        // A head at most 24 wide: P·V by the narrow kernel (ghost_attention.h), in float32.
        let narrow = T.self == Float.self && e <= 24 && narrowAvailable
        // Softmax reads S and writes P in two buffers: the C row loop, like the node's, is
        // vectorized only where source and destination do not overlap.
        let scores = UnsafeMutablePointer<T>.allocate(capacity: 2 * rows * n)
        defer { scores.deallocate() }
        let probabilities = scores + rows * n
        let capacity = max(packedCount(rows, d), packedCount(rows, n))
        let packed = UnsafeMutableRawPointer.allocate(byteCount: capacity * MemoryLayout<T>.stride, alignment: 64)
            .bindMemory(to: T.self, capacity: capacity)
        defer { packed.deallocate() }
        return [T](filling: plan.batches * m * e) { out in
            q.withUnsafeBufferPointer { qp in
                k.withUnsafeBufferPointer { kp in
                    v.withUnsafeBufferPointer { vp in
                        for index in 0..<plan.batches {
                            let a = qp.baseAddress! + plan.offset(index, plan.qStrides) * m * d
                            let b = kp.baseAddress! + plan.offset(index, plan.kStrides) * d * n
                            let c = vp.baseAddress! + plan.offset(index, plan.vStrides) * n * e
                            var first = 0
                            while first < m {
                                let count = min(rows, m - first)
                                T.packA(a + first * d, lda: d, m: count, k: d, into: packed)
                                T.packedProduct(packed, m: count, k: d, b, ldb: n, n: n, into: scores, ldc: n)
                                T.softmaxRows(probabilities, scores, rows: count, size: n)
                                let o = out.baseAddress! + (index * m + first) * e
                                if narrow {
                                    // Float here (`narrow` says so): the same FMA chains, P read in place.
                                    probabilities.withMemoryRebound(to: Float.self, capacity: count * n) { p in
                                        c.withMemoryRebound(to: Float.self, capacity: n * e) { v in
                                            o.withMemoryRebound(to: Float.self, capacity: count * e) { y in
                                                gk_attention_narrow_f32(p, n, count, n, v, e, e, y, e)
                                            }
                                        }
                                    }
                                } else {
                                    T.packA(probabilities, lda: n, m: count, k: n, into: packed)
                                    T.packedProduct(packed, m: count, k: n, c, ldb: e, n: e, into: o, ldc: e)
                                }
                                first += count
                            }
                        }
                    }
                }
            }
        }
    }

    private static let narrowAvailable = gk_attention_narrow_available()

    /// gk_gemm_packed_count: rows rounded up to panels of 8, times k.
    private static func packedCount(_ m: Int, _ k: Int) -> Int { (m + 7) / 8 * 8 * k }

    /// The three nodes evaluated in turn, as the unfused plan does.
    private static func oneByOne(_ parts: [ExecutionPlan.Step], _ q: Buffer, _ k: Buffer, _ v: Buffer, inputs: [Int],
                                 constants: [Int: Buffer], opset: Int64, precision: Precision) throws(InterpreterError) -> Buffer {
        var known = constants
        for (slot, value) in zip(inputs, [q, k, v]) { known[slot] = value }
        return try ExecutionPlan.Step.evaluateInTurn(parts, known: known, opset: opset, precision: precision, chain: "attention chain")
    }
}
