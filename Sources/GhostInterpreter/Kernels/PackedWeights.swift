import CKernels
import Dispatch
import Foundation

/// A convolution's weights in the layout of CKernels' packed GEMM (ghost_gemm.h), in the run's
/// precision (float32 or float64), made once when the interpreter is created: one packed matrix
/// per group, each the group's output channels × (input channels per group · kernel height ·
/// kernel width). Runs then multiply the activations in place, where BLAS would repack both
/// operands on every call — the larger part of a small convolution's time.
final class PackedWeights: @unchecked Sendable {
    /// Rows (output channels) and columns of each group's matrix.
    let rows: Int, columns: Int, groups: Int
    /// How many parts a large product is split into, each on its own thread.
    let threads: Int
    /// The element type the weights were packed in (Float or Double): `multiply` takes only that.
    private let element: ObjectIdentifier
    /// Elements between one group's packed matrix and the next.
    private let groupStride: Int
    private let storage: UnsafeMutableRawPointer
    /// Whether every weight is finite: then a weight times a padding zero is ±0, and leaving that
    /// term out of an element's chain of FMAs (which starts at +0, so never holds −0) changes no
    /// bit. With an infinite or NaN weight the term is NaN and must stay.
    let finite: Bool

    /// Packs a Conv's constant weight [M, C/g, kh, kw] (or [M, C/g, k] for 1-D) for `groups`
    /// groups; nil when this CPU has no packed kernel or the weight does not describe a grouped
    /// product (depthwise convolutions have their own loops).
    convenience init?<T: InterpreterScalar>(weight: [T], shape: [Int], groups: Int, threads: Int = 1) {
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
    convenience init?<T: InterpreterScalar>(matrix: [T], shape: [Int], transposed: Bool, threads: Int = 1) {
        guard shape.count == 2, shape.allSatisfy({ $0 >= 1 }), matrix.count == shape[0] * shape[1] else { return nil }
        if transposed {
            self.init(matrix, rows: shape[0], columns: shape[1], groups: 1, threads: threads)
        } else {
            let (k, n) = (shape[0], shape[1])
            let flipped = [T](filling: k * n) { out in
                for row in 0..<k { for column in 0..<n { out.initializeElement(at: column * k + row, to: matrix[row * n + column]) } }
            }
            self.init(flipped, rows: n, columns: k, groups: 1, threads: threads)
        }
    }

    /// `groups` row-major matrices of rows × columns, one after the other in `source`.
    private convenience init?<T: InterpreterScalar>(_ source: [T], rows: Int, columns: Int, groups: Int, threads: Int) {
        guard gk_gemm_available(), rows >= 1, columns >= 1, groups >= 1, columns <= Int(Int32.max), rows <= Int(Int32.max) else {
            return nil
        }
        self.init(rows: rows, columns: columns, groups: groups, threads: threads, element: T.self,
                  finite: source.allSatisfy { $0.isFinite })
        let packed = storage.bindMemory(to: T.self, capacity: groupStride * groups)
        source.withUnsafeBufferPointer { w in
            for group in 0..<groups {
                T.packA(w.baseAddress! + group * rows * columns, lda: columns, m: rows, k: columns, into: packed + group * groupStride)
            }
        }
    }

    /// Allocates the storage, uninitialized.
    private init<T: InterpreterScalar>(rows: Int, columns: Int, groups: Int, threads: Int, element: T.Type, finite: Bool) {
        self.rows = rows
        self.columns = columns
        self.groups = groups
        self.threads = max(1, threads)
        self.element = ObjectIdentifier(T.self)
        self.finite = finite
        groupStride = gk_gemm_packed_count(Int32(rows), Int32(columns))
        storage = UnsafeMutableRawPointer.allocate(byteCount: max(1, groupStride * groups) * MemoryLayout<T>.stride, alignment: 64)
    }

    /// The same weights with only the columns `kept` (increasing, each in 0 ..< columns), in that
    /// order: a convolution whose other kernel taps read only padding multiplies by these. Copies
    /// 8-row slices of the packed panels, so it costs one pass over the kept weights; nil when
    /// the weights were packed in another precision than T.
    func keeping<T: InterpreterScalar>(columns kept: [Int], as type: T.Type) -> PackedWeights? {
        guard holds(T.self), !kept.isEmpty, kept.allSatisfy({ (0..<columns).contains($0) }) else { return nil }
        let result = PackedWeights(rows: rows, columns: kept.count, groups: groups, threads: threads, element: T.self, finite: finite)
        let source = UnsafePointer(storage.assumingMemoryBound(to: T.self))
        let target = result.storage.bindMemory(to: T.self, capacity: result.groupStride * groups)
        let panels = (rows + 7) / 8
        for group in 0..<groups {
            for panel in 0..<panels {
                let from = source + group * groupStride + panel * 8 * columns
                let to = target + group * result.groupStride + panel * 8 * kept.count
                for (index, column) in kept.enumerated() { (to + index * 8).update(from: from + column * 8, count: 8) }
            }
        }
        return result
    }

    /// `keeping(columns:as:)` for the taps `taps` (ky·kw + kx, ascending) of every input channel
    /// of a kernel with `perChannel` taps, made once per tap set and kept: a convolution cut into
    /// `TapRegions` multiplies by the same few sets on every run (DeepLabV3's ASPP: nine).
    func keeping<T: InterpreterScalar>(taps: [Int], perChannel: Int, as type: T.Type) -> PackedWeights? {
        guard perChannel >= 1, columns % perChannel == 0 else { return nil }
        if taps == Array(0..<perChannel) { return holds(T.self) ? self : nil }  // every tap: these weights
        reducedLock.lock()
        defer { reducedLock.unlock() }
        if let known = reduced[taps] { return known.holds(T.self) ? known : nil }
        let kept = TapRegions.columns(channels: columns / perChannel, perChannel: perChannel, taps: taps)
        guard let made = keeping(columns: kept, as: T.self) else { return nil }
        if reduced.count < Self.maximumReducedSets { reduced[taps] = made }
        return made
    }

    /// Tap sets kept per weight (memory: each is a copy of part of the weights); a geometry with
    /// more distinct sets gathers the others on every run.
    static let maximumReducedSets = 16
    private let reducedLock = NSLock()
    private var reduced: [[Int]: PackedWeights] = [:]

    deinit { storage.deallocate() }

    /// Whether these weights are the ones a convolution of this geometry multiplies by.
    func fits(_ g: Convolution.Geometry) -> Bool {
        g.groups == groups && g.outputChannels / g.groups == rows && g.inputPerGroup * g.kernelHeight * g.kernelWidth == columns
    }

    /// Whether the weights were packed as `type` (what `multiply` needs its operands in).
    func holds<T: InterpreterScalar>(_ type: T.Type) -> Bool { element == ObjectIdentifier(type) }

    /// C[rows × n] (row stride ldc) = group's weights · B[columns × n] (row stride ldb); false,
    /// with C untouched, when the weights were packed in another precision than T.
    ///
    /// With several threads, a product of at least `Self.parallelWork` multiply-adds is split
    /// into column blocks (multiples of 48 columns, a whole number of either precision's tiles) or,
    /// when there are too few columns, into blocks of 8-row panels, one per thread. Each element
    /// is the same k-ordered sum whichever block computes it, so the result does not depend on the
    /// thread count.
    @discardableResult
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    func multiply<T: InterpreterScalar>(group: Int, _ b: UnsafePointer<T>, ldb: Int, n: Int, into c: UnsafeMutablePointer<T>,
                                        ldc: Int) -> Bool {
        guard holds(T.self) else { return false }
        let packed = UnsafePointer(storage.assumingMemoryBound(to: T.self) + group * groupStride)
        let work = rows * columns * n
        guard threads > 1, work >= Self.parallelWork else {
            T.packedProduct(packed, m: rows, k: columns, b, ldb: ldb, n: n, into: c, ldc: ldc)
            return true
        }
        let operands = SharedOperands(packed: packed, b: b, c: c)
        let (rows, columns) = (rows, columns)
        let panels = (rows + 7) / 8
        if n >= 96 * threads || panels < threads {
            let tiles = (n + 47) / 48, parts = min(threads, tiles)
            DispatchQueue.concurrentPerform(iterations: parts) { part in
                let first = tiles * part / parts * 48, last = min(n, tiles * (part + 1) / parts * 48)
                guard first < last else { return }
                T.packedProduct(operands.packed, m: rows, k: columns, operands.b + first, ldb: ldb, n: last - first,
                                into: operands.c + first, ldc: ldc)
            }
        } else {
            let parts = min(threads, panels)
            DispatchQueue.concurrentPerform(iterations: parts) { part in
                let first = panels * part / parts * 8, last = min(rows, panels * (part + 1) / parts * 8)
                guard first < last else { return }
                T.packedProduct(operands.packed + first * columns, m: last - first, k: columns, operands.b, ldb: ldb, n: n,
                                into: operands.c + first * ldc, ldc: ldc)
            }
        }
        return true
    }

    /// Multiply-adds below which splitting a product costs more than it saves.
    static let parallelWork = 1 << 24
}

/// The operands of one product split over threads: the parts write disjoint blocks of C and only
/// read the rest, so they share them as addresses.
private struct SharedOperands<T>: @unchecked Sendable {
    let packed: UnsafePointer<T>, b: UnsafePointer<T>, c: UnsafeMutablePointer<T>
}
