/// Numpy-style broadcasting of two shapes, and elementwise combination over it.
enum Broadcast {
    /// The broadcast shape, or nil when the shapes are incompatible.
    static func shape(_ a: [Int], _ b: [Int]) -> [Int]? {
        let rank = max(a.count, b.count)
        var result = [Int](repeating: 1, count: rank)
        for axis in 0..<rank {
            let x = axis < rank - a.count ? 1 : a[axis - (rank - a.count)]
            let y = axis < rank - b.count ? 1 : b[axis - (rank - b.count)]
            guard x == y || x == 1 || y == 1 else { return nil }
            result[axis] = x == 1 ? y : x
        }
        return result
    }

    /// Element strides of `shape` aligned to `target`, 0 along broadcast axes.
    static func strides(of shape: [Int], in target: [Int]) -> [Int] {
        var strides = [Int](repeating: 0, count: target.count)
        var step = 1
        for axis in stride(from: shape.count - 1, through: 0, by: -1) {
            let targetAxis = axis + target.count - shape.count
            strides[targetAxis] = shape[axis] == 1 ? 0 : step
            step *= shape[axis]
        }
        return strides
    }

    /// `combine(a[i], b[j])` over the broadcast of the two shapes.
    static func apply<T, U, R>(_ a: [T], _ aShape: [Int], _ b: [U], _ bShape: [Int], into shape: [Int],
                               _ combine: (T, U) -> R) -> [R] {
        let count = shape.reduce(1, *)
        if aShape == bShape { return zip(a, b).map(combine) }
        if b.count == 1, a.count == count { let y = b[0]; return a.map { combine($0, y) } }
        if a.count == 1, b.count == count { let x = a[0]; return b.map { combine(x, $0) } }
        let aStrides = strides(of: aShape, in: shape), bStrides = strides(of: bShape, in: shape)
        var result = [R]()
        result.reserveCapacity(count)
        guard count > 0 else { return result }
        // The innermost axis runs as a tight loop; an odometer walks the outer ones.
        let rank = shape.count
        let inner = rank > 0 ? shape[rank - 1] : 1
        let aInner = rank > 0 ? aStrides[rank - 1] : 0, bInner = rank > 0 ? bStrides[rank - 1] : 0
        var index = [Int](repeating: 0, count: max(rank - 1, 0))
        var aOffset = 0, bOffset = 0
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                while true {
                    var i = aOffset, j = bOffset
                    for _ in 0..<inner {
                        result.append(combine(pa[i], pb[j]))
                        i += aInner
                        j += bInner
                    }
                    var axis = rank - 2
                    while axis >= 0 {
                        index[axis] += 1
                        aOffset += aStrides[axis]
                        bOffset += bStrides[axis]
                        if index[axis] < shape[axis] { break }
                        aOffset -= aStrides[axis] * shape[axis]
                        bOffset -= bStrides[axis] * shape[axis]
                        index[axis] = 0
                        axis -= 1
                    }
                    if axis < 0 { break }
                }
            }
        }
        return result
    }
}
