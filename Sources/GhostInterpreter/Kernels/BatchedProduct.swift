import CKernels

/// MatMul's products through CKernels' packed GEMM (ghost_gemm.h) instead of one OpenBLAS call
/// per batch: C_b = A_b · B_b, each element the k-ordered chain acc = fma(a, b, acc) from +0.
///
/// Both operands are activations here (MobileViT's attention: Q·Kᵀ and softmax·V per head, 16
/// heads of 256×16·16×256), so BLAS packed both of them on every call and cleared C in its beta
/// pass, which for such small products cost as much as the multiply-adds. Here A_b is packed
/// (one pass over it, 8-row panels) and B_b read in place; C is written once, never cleared.
/// When B is one matrix broadcast to every batch and A's batches are contiguous, the batches are
/// one product of (batches·m) rows, packed and multiplied once.
///
/// The sum order is not OpenBLAS's in general, so bits may differ from the BLAS path by the
/// reordering of a k-term float sum (both are FMA chains; ONNX Runtime's MLAS is another order
/// again); the result does not depend on the thread count, the batch, or the element's position.
enum BatchedProduct {
    /// Whether `work` multiply-adds go through the packed kernel: it has one (AVX2 + FMA or
    /// AVX-512) and the product is small enough that BLAS's threads would not help
    /// (`PackedWeights.parallelWork`). Larger products keep OpenBLAS.
    static func handles(work: Int) -> Bool {
        gk_gemm_available() && work < PackedWeights.parallelWork
    }

    /// out[b] = a[aOffset(b)] · b[bOffset(b)] for b < batches, A m×k and B k×n row-major, out
    /// batches·m×n; `foldA` says A's batches are contiguous and B is the same for all of them.
    /// m, n, k ≥ 1 and at most Int32.max (checked by the caller).
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func multiply<T: InterpreterScalar>(_ a: UnsafePointer<T>, _ b: UnsafePointer<T>, into out: UnsafeMutablePointer<T>,
                                               batches: Int, m: Int, n: Int, k: Int, fold: Bool,
                                               aOffset: (Int) -> Int, bOffset: (Int) -> Int) {
        let rows = fold ? batches * m : m
        let count = gk_gemm_packed_count(Int32(clamping: rows), Int32(k))
        let packed = UnsafeMutableRawPointer.allocate(byteCount: max(1, count) * MemoryLayout<T>.stride, alignment: 64)
            .bindMemory(to: T.self, capacity: max(1, count))
        defer { packed.deallocate() }
        if fold {
            T.packA(a, lda: k, m: rows, k: k, into: packed)
            T.packedProduct(packed, m: rows, k: k, b, ldb: n, n: n, into: out, ldc: n)
            return
        }
        var packedOffset = -1
        for index in 0..<batches {
            // A broadcast over some batch axes repeats an offset: it is packed once for the run of them.
            let offset = aOffset(index)
            if offset != packedOffset {
                T.packA(a + offset * m * k, lda: k, m: m, k: k, into: packed)
                packedOffset = offset
            }
            T.packedProduct(packed, m: m, k: k, b + bOffset(index) * k * n, ldb: n, n: n, into: out + index * m * n, ldc: n)
        }
    }
}
