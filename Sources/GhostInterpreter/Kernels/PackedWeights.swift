import CKernels
import Dispatch

/// A float32 convolution's weights in the layout of CKernels' packed GEMM (ghost_gemm.h), made
/// once when the interpreter is created: one packed matrix per group, each the group's output
/// channels × (input channels per group · kernel height · kernel width). Runs then multiply the
/// activations in place, where BLAS would repack both operands on every call — the larger part
/// of a small convolution's time.
final class PackedWeights: @unchecked Sendable {
    /// Rows (output channels) and columns of each group's matrix.
    let rows: Int, columns: Int, groups: Int
    /// How many parts a large product is split into, each on its own thread.
    let threads: Int
    /// Floats between one group's packed matrix and the next.
    private let groupStride: Int
    private let storage: UnsafeMutableRawPointer

    /// Packs a Conv's constant weight [M, C/g, kh, kw] (or [M, C/g, k] for 1-D) for `groups`
    /// groups; nil when this CPU has no packed kernel or the weight does not describe a grouped
    /// product (depthwise convolutions have their own loops).
    convenience init?(weight: [Float], shape: [Int], groups: Int, threads: Int = 1) {
        guard shape.count >= 3, groups >= 1, shape[0] % groups == 0, shape[1] > 1, shape.allSatisfy({ $0 >= 1 }) else { return nil }
        let (columns, overflow) = shape.dropFirst().reduce((1, false)) { partial, dimension in
            let (product, overflow) = partial.0.multipliedReportingOverflow(by: dimension)
            return (product, partial.1 || overflow)
        }
        guard !overflow, weight.count == shape[0] * columns else { return nil }
        self.init(weight, rows: shape[0] / groups, columns: columns, groups: groups, threads: threads)
    }

    /// Packs a Gemm's or MatMul's constant right operand B as the left operand of the transposed
    /// product (Yᵀ = Bᵀ·Aᵀ): `matrix` is B [k × n], or Bᵀ [n × k] itself when `transposed`.
    convenience init?(matrix: [Float], shape: [Int], transposed: Bool, threads: Int = 1) {
        guard shape.count == 2, shape.allSatisfy({ $0 >= 1 }), matrix.count == shape[0] * shape[1] else { return nil }
        if transposed {
            self.init(matrix, rows: shape[0], columns: shape[1], groups: 1, threads: threads)
        } else {
            let (k, n) = (shape[0], shape[1])
            let flipped = [Float](filling: k * n) { out in
                for row in 0..<k { for column in 0..<n { out.initializeElement(at: column * k + row, to: matrix[row * n + column]) } }
            }
            self.init(flipped, rows: n, columns: k, groups: 1, threads: threads)
        }
    }

    /// `groups` row-major matrices of rows × columns, one after the other in `source`.
    private init?(_ source: [Float], rows: Int, columns: Int, groups: Int, threads: Int) {
        guard gk_gemm_available(), rows >= 1, columns >= 1, groups >= 1, columns <= Int(Int32.max), rows <= Int(Int32.max) else {
            return nil
        }
        self.rows = rows
        self.columns = columns
        self.groups = groups
        self.threads = max(1, threads)
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
    ///
    /// With several threads, a product of at least `Self.parallelWork` multiply-adds is split
    /// into column blocks (multiples of the kernel's 48-column tile) or, when there are too few
    /// columns, into blocks of 8-row panels, one per thread. Each element is the same k-ordered
    /// sum whichever block computes it, so the result does not depend on the thread count.
    func multiply(group: Int, _ b: UnsafePointer<Float>, ldb: Int, n: Int, into c: UnsafeMutablePointer<Float>, ldc: Int) {
        let packed = storage.assumingMemoryBound(to: Float.self) + group * groupStride
        let work = rows * columns * n
        guard threads > 1, work >= Self.parallelWork else {
            gk_gemm_packed(packed, Int32(rows), Int32(columns), b, Int32(ldb), Int32(n), c, Int32(ldc))
            return
        }
        // The parts write disjoint blocks of C and only read the rest: shared as addresses.
        struct Operands: @unchecked Sendable {
            let packed: UnsafePointer<Float>, b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>
        }
        let operands = Operands(packed: packed, b: b, c: c)
        let (rows, columns) = (rows, columns)
        let panels = (rows + 7) / 8
        if n >= 96 * threads || panels < threads {
            let tiles = (n + 47) / 48, parts = min(threads, tiles)
            DispatchQueue.concurrentPerform(iterations: parts) { part in
                let first = tiles * part / parts * 48, last = min(n, tiles * (part + 1) / parts * 48)
                guard first < last else { return }
                gk_gemm_packed(operands.packed, Int32(rows), Int32(columns), operands.b + first, Int32(ldb), Int32(last - first),
                               operands.c + first, Int32(ldc))
            }
        } else {
            let parts = min(threads, panels)
            DispatchQueue.concurrentPerform(iterations: parts) { part in
                let first = panels * part / parts * 8, last = min(rows, panels * (part + 1) / parts * 8)
                guard first < last else { return }
                gk_gemm_packed(operands.packed + first * columns, Int32(last - first), Int32(columns), operands.b, Int32(ldb), Int32(n),
                               operands.c + first * ldc, Int32(ldc))
            }
        }
    }

    /// Multiply-adds below which splitting a product costs more than it saves.
    static let parallelWork = 1 << 24
}
