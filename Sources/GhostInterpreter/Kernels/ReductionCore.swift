import Foundation
import GhostIR

/// Element types the reduction, arg-reduction, sorting, cumulative-sum and einsum kernels run
/// on: the run's floats, and Int64 standing for every ONNX integer type (wrapping arithmetic,
/// as the narrower C++ types wrap in ONNX Runtime once the output is truncated to them).
protocol ReducibleScalar: Sendable, Equatable {
    static var zero: Self { get }
    static var one: Self { get }
    static func add(_ a: Self, _ b: Self) -> Self
    static func multiply(_ a: Self, _ b: Self) -> Self
    static func absolute(_ a: Self) -> Self
    /// a > b; false when either is NaN.
    static func isGreater(_ a: Self, _ b: Self) -> Bool
    /// One contiguous block (count ≥ 1) combined (see `Reduction.blockReduce`).
    static func combineBlock(_ combine: ReductionCombine, _ start: UnsafePointer<Self>, _ count: Int) -> Self
}

extension ReducibleScalar {
    static func combineBlock(_ combine: ReductionCombine, _ start: UnsafePointer<Self>, _ count: Int) -> Self {
        Reduction.blockReduce(start, count, combine)
    }
}

/// Float sums of blocks run in SIMD registers, 16 (8) lanes at a time, the rest serially.
/// (Maximum and minimum keep the scalar lanes: the standard library's generic SIMD comparisons
/// are not specialized here and run far slower.)
@inline(__always)
private func simdBlock<V: SIMD>(_ combine: ReductionCombine, _ start: UnsafePointer<V.Scalar>, _ count: Int, _: V.Type) -> V.Scalar
where V.Scalar: BinaryFloatingPoint & ReducibleScalar {
    guard count >= 2 * V.scalarCount, combine == .sum else { return Reduction.blockReduce(start, count, combine) }
    let raw = UnsafeRawPointer(start), width = V.scalarCount, step = width * MemoryLayout<V.Scalar>.stride
    var lanes = V.zero
    var i = 0, offset = 0
    while i + width <= count { lanes += raw.loadUnaligned(fromByteOffset: offset, as: V.self); i += width; offset += step }
    var result = lanes.sum()
    while i < count { result += start[i]; i += 1 }
    return result
}

extension Float {
    static func combineBlock(_ combine: ReductionCombine, _ start: UnsafePointer<Float>, _ count: Int) -> Float {
        simdBlock(combine, start, count, SIMD16<Float>.self)
    }
}

extension Double {
    static func combineBlock(_ combine: ReductionCombine, _ start: UnsafePointer<Double>, _ count: Int) -> Double {
        simdBlock(combine, start, count, SIMD8<Double>.self)
    }
}

extension Float: ReducibleScalar {
    static var one: Float { 1 }
    static func add(_ a: Float, _ b: Float) -> Float { a + b }
    static func multiply(_ a: Float, _ b: Float) -> Float { a * b }
    static func absolute(_ a: Float) -> Float { Swift.abs(a) }
    static func isGreater(_ a: Float, _ b: Float) -> Bool { a > b }
}

extension Double: ReducibleScalar {
    static var one: Double { 1 }
    static func add(_ a: Double, _ b: Double) -> Double { a + b }
    static func multiply(_ a: Double, _ b: Double) -> Double { a * b }
    static func absolute(_ a: Double) -> Double { Swift.abs(a) }
    static func isGreater(_ a: Double, _ b: Double) -> Bool { a > b }
}

extension Int64: ReducibleScalar {
    static var one: Int64 { 1 }
    static func add(_ a: Int64, _ b: Int64) -> Int64 { a &+ b }
    static func multiply(_ a: Int64, _ b: Int64) -> Int64 { a &* b }
    static func absolute(_ a: Int64) -> Int64 { a < 0 ? 0 &- a : a }
    static func isGreater(_ a: Int64, _ b: Int64) -> Bool { a > b }
}

/// How a reduction combines two partial results.
enum ReductionCombine: Sendable {
    case sum, product, maximum, minimum

    /// Maximum and minimum keep the running value unless the new one is strictly beyond it, so
    /// a reduction seeded with a NaN stays NaN and a later NaN is passed over: ONNX Runtime's
    /// ReduceMax/ReduceMin/ArgMax on CPU (its SIMD ReduceMax also drops values sharing a lane
    /// with a NaN, which no definition reproduces; this is the rule it follows otherwise).
    @inline(__always)
    func apply<T: ReducibleScalar>(_ running: T, _ value: T) -> T {
        switch self {
        case .sum: T.add(running, value)
        case .product: T.multiply(running, value)
        case .maximum: T.isGreater(value, running) ? value : running
        case .minimum: T.isGreater(running, value) ? value : running
        }
    }
}

extension Reduction {
    /// `values` (C order, `shape`) reduced over `axes` by `combine`, in the keepdims layout
    /// (reduced axes of size 1); a reduction over no elements is `identity`.
    ///
    /// Consecutive axes that are both reduced or both kept are merged, so the work is a few
    /// passes of one primitive, [outer, reduced, inner] → [outer, inner]: contiguous blocks when
    /// the reduced axes trail (global pooling), whole rows added into a row otherwise.
    static func reduce<T: ReducibleScalar>(_ values: [T], shape: [Int], axes: Set<Int>, _ combine: ReductionCombine,
                                           identity: T) -> [T] {
        // Groups of merged axes: (size, reduced). Axes of size 1 change nothing and are dropped.
        var groups: [(size: Int, reduced: Bool)] = []
        for (axis, size) in shape.enumerated() where size != 1 {
            let reduced = axes.contains(axis)
            if let last = groups.last, last.reduced == reduced {
                groups[groups.count - 1].size = last.size * size
            } else {
                groups.append((size, reduced))
            }
        }
        var current = values
        // Innermost reduced group first: each pass keeps the first-visited element of every
        // output first, which the NaN rule of maximum and minimum depends on.
        while let index = groups.lastIndex(where: \.reduced) {
            let outer = groups[..<index].reduce(1) { $0 * $1.size }
            let inner = groups[(index + 1)...].reduce(1) { $0 * $1.size }
            current = current.withUnsafeBufferPointer {
                reduceMiddle($0, outer: outer, count: groups[index].size, inner: inner, combine, identity: identity)
            }
            groups.remove(at: index)
            if index > 0, index < groups.count, groups[index - 1].reduced == groups[index].reduced {
                groups[index - 1].size *= groups[index].size
                groups.remove(at: index)
            }
        }
        return current
    }

    /// x viewed as [outer, count, inner], combined over the middle axis.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    @_specialize(where T == Int64)
    static func reduceMiddle<T: ReducibleScalar>(_ x: UnsafeBufferPointer<T>, outer: Int, count: Int, inner: Int,
                                                 _ combine: ReductionCombine, identity: T) -> [T] {
        let outputs = outer * inner
        guard count > 0 else { return [T](repeating: identity, count: outputs) }
        guard outputs > 0, let base = x.baseAddress else { return [] }
        return [T](filling: outputs) { out in
            guard let destination = out.baseAddress else { return }
            if inner == 1 {
                for block in 0..<outer {
                    destination[block] = T.combineBlock(combine, base + block * count, count)
                }
                return
            }
            for block in 0..<outer {
                let row = destination + block * inner, source = base + block * count * inner
                row.initialize(from: source, count: inner)
                for step in 1..<count {
                    let next = source + step * inner
                    switch combine {
                    case .sum: for j in 0..<inner { row[j] = T.add(row[j], next[j]) }
                    case .product: for j in 0..<inner { row[j] = T.multiply(row[j], next[j]) }
                    case .maximum: for j in 0..<inner { row[j] = T.isGreater(next[j], row[j]) ? next[j] : row[j] }
                    case .minimum: for j in 0..<inner { row[j] = T.isGreater(row[j], next[j]) ? next[j] : row[j] }
                    }
                }
            }
        }
    }

    /// One contiguous block (count ≥ 1) combined in four interleaved lanes so the loop
    /// vectorizes (a sum's order differs from a serial one only in rounding). Maximum and
    /// minimum seed every lane with the first element, so the lanes give the serial answer.
    @inline(__always)
    static func blockReduce<T: ReducibleScalar>(_ start: UnsafePointer<T>, _ count: Int, _ combine: ReductionCombine) -> T {
        switch combine {
        case .sum: lanes(start, count, seed: T.zero) { T.add($0, $1) }
        // In order, as ONNX Runtime multiplies: regrouping a product can turn overflow then
        // underflow (−inf · −0 = NaN) into a different non-finite answer than ONNX Runtime's.
        case .product: (0..<count).reduce(T.one) { T.multiply($0, start[$1]) }
        case .maximum: lanes(start, count, seed: start[0]) { T.isGreater($1, $0) ? $1 : $0 }
        case .minimum: lanes(start, count, seed: start[0]) { T.isGreater($0, $1) ? $1 : $0 }
        }
    }

    @inline(__always)
    private static func lanes<T>(_ start: UnsafePointer<T>, _ count: Int, seed: T, _ apply: (T, T) -> T) -> T {
        var (l0, l1, l2, l3) = (seed, seed, seed, seed)
        var i = 0
        while i + 4 <= count {
            l0 = apply(l0, start[i]); l1 = apply(l1, start[i + 1])
            l2 = apply(l2, start[i + 2]); l3 = apply(l3, start[i + 3])
            i += 4
        }
        while i < count { l0 = apply(l0, start[i]); i += 1 }
        return apply(apply(l0, l1), apply(l2, l3))
    }

    /// The tensor of `shape` whose element at index (i₀, …, iₙ) is `source[Σ i_d·strides[d]]`:
    /// a permutation, a broadcast (stride 0) or a diagonal (summed strides) made contiguous.
    static func gather<T>(_ source: [T], shape: [Int], strides: [Int]) -> [T] {
        let count = shape.reduce(1, *)
        guard count > 0 else { return [] }
        guard let last = shape.indices.last else { return [source[0]] }
        let length = shape[last], step = strides[last]
        return source.withUnsafeBufferPointer { src in
            [T](filling: count) { out in
                guard let s = src.baseAddress, let o = out.baseAddress else { return }
                var index = [Int](repeating: 0, count: shape.count)
                var offset = 0, written = 0
                while written < count {
                    let row = o + written
                    if step == 1 {
                        row.initialize(from: s + offset, count: length)
                    } else {
                        for j in 0..<length { (row + j).initialize(to: s[offset + j * step]) }
                    }
                    written += length
                    ShapeOperators.advance(&index, &offset, shape: shape, strides: strides, axes: last)
                }
            }
        }
    }

    /// The [outer, axis, inner] view of a shape around one axis.
    static func split(_ shape: [Int], at axis: Int) -> (outer: Int, count: Int, inner: Int) {
        (shape[..<axis].reduce(1, *), shape[axis], shape[(axis + 1)...].reduce(1, *))
    }

    /// Maps uint64 data (held as its bit pattern in Int64) to an order-preserving Int64 and back
    /// (flipping the sign bit), so signed comparisons order it correctly.
    static func orderKeys(_ values: [Int64], _ type: ElementType) -> [Int64] {
        type == .uint64 ? values.map { $0 ^ Int64.min } : values
    }

    /// The smallest and largest values of the ONNX integer type (in `orderKeys` form).
    static func integerRange(_ type: ElementType) -> (lowest: Int64, highest: Int64) {
        switch type {
        case .int8: (Int64(Int8.min), Int64(Int8.max))
        case .uint8: (0, Int64(UInt8.max))
        case .int16: (Int64(Int16.min), Int64(Int16.max))
        case .uint16: (0, Int64(UInt16.max))
        case .int32: (Int64(Int32.min), Int64(Int32.max))
        case .uint32: (0, Int64(UInt32.max))
        default: (Int64.min, Int64.max)
        }
    }
}
