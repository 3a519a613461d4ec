import CKernels

/// A float32 convolution's weights in the layout of CKernels' packed GEMM (ghost_gemm.h), made
/// once when the interpreter is created: one packed matrix per group, each the group's output
/// channels × (input channels per group · kernel height · kernel width). Runs then multiply the
/// activations in place, where BLAS would repack both operands on every call — the larger part
/// of a small convolution's time.
final class PackedWeights: @unchecked Sendable {
    /// Rows (output channels) and columns of each group's matrix.
    let rows: Int, columns: Int, groups: Int
    /// Floats between one group's packed matrix and the next.
    private let groupStride: Int
    private let storage: UnsafeMutableRawPointer

    /// Packs a Conv's constant weight [M, C/g, kh, kw] (or [M, C/g, k] for 1-D) for `groups`
    /// groups; nil when this CPU has no packed kernel or the weight does not describe a grouped
    /// product (depthwise convolutions have their own loops).
    convenience init?(weight: [Float], shape: [Int], groups: Int) {
        guard shape.count >= 3, groups >= 1, shape[0] % groups == 0, shape[1] > 1, shape.allSatisfy({ $0 >= 1 }) else { return nil }
        let (columns, overflow) = shape.dropFirst().reduce((1, false)) { partial, dimension in
            let (product, overflow) = partial.0.multipliedReportingOverflow(by: dimension)
            return (product, partial.1 || overflow)
        }
        guard !overflow, weight.count == shape[0] * columns else { return nil }
        self.init(weight, rows: shape[0] / groups, columns: columns, groups: groups)
    }

    /// Packs a Gemm's or MatMul's constant right operand B as the left operand of the transposed
    /// product (Yᵀ = Bᵀ·Aᵀ): `matrix` is B [k × n], or Bᵀ [n × k] itself when `transposed`.
    convenience init?(matrix: [Float], shape: [Int], transposed: Bool) {
        guard shape.count == 2, shape.allSatisfy({ $0 >= 1 }), matrix.count == shape[0] * shape[1] else { return nil }
        if transposed {
            self.init(matrix, rows: shape[0], columns: shape[1], groups: 1)
        } else {
            let (k, n) = (shape[0], shape[1])
            let flipped = [Float](filling: k * n) { out in
                for row in 0..<k { for column in 0..<n { out.initializeElement(at: column * k + row, to: matrix[row * n + column]) } }
            }
            self.init(flipped, rows: n, columns: k, groups: 1)
        }
    }

    /// `groups` row-major matrices of rows × columns, one after the other in `source`.
    private init?(_ source: [Float], rows: Int, columns: Int, groups: Int) {
        guard gk_gemm_available(), rows >= 1, columns >= 1, groups >= 1, columns <= Int(Int32.max), rows <= Int(Int32.max) else {
            return nil
        }
        self.rows = rows
        self.columns = columns
        self.groups = groups
        groupStride = gk_gemm_packed_count(Int32(rows), Int32(columns))
        storage = UnsafeMutableRawPointer.allocate(byteCount: max(1, groupStride * groups) * MemoryLayout<Float>.stride, alignment: 64)
        let packed = storage.bindMemory(to: Float.self, capacity: groupStride * groups)
        source.withUnsafeBufferPointer { w in
            for group in 0..<groups {
                gk_gemm_pack_a(w.baseAddress! + group * rows * columns, Int32(columns), Int32(rows), Int32(columns),
                               packed + group * groupStride)
            }
        }
    }

    deinit { storage.deallocate() }

    /// Whether these weights are the ones a convolution of this geometry multiplies by.
    func fits(_ g: Convolution.Geometry) -> Bool {
        g.groups == groups && g.outputChannels / g.groups == rows && g.inputPerGroup * g.kernelHeight * g.kernelWidth == columns
    }

    /// C[rows × n] (row stride ldc) = group's weights · B[columns × n] (row stride ldb).
    func multiply(group: Int, _ b: UnsafePointer<Float>, ldb: Int, n: Int, into c: UnsafeMutablePointer<Float>, ldc: Int) {
        let packed = storage.assumingMemoryBound(to: Float.self) + group * groupStride
        gk_gemm_packed(packed, Int32(rows), Int32(columns), b, Int32(ldb), Int32(n), c, Int32(ldc))
    }
}
