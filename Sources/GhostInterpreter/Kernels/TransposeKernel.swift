/// Transpose's copy: output[i₀, …, i_{r−1}] = input[Σ iₐ·strides[a]] over the output shape in C
/// order. The trailing output axes that stay contiguous in the source move as one block of
/// `block` elements; of the axes before them, the last is a strided inner loop and the others an
/// odometer that carries the source offset, so no per-element index array is built (the plan's
/// small attention transposes — MobileViT's [4, 4, 256, 16] and [1, 64, 256, 4] — were dominated by
/// building one).
enum TransposeKernel {
    static func permute(_ storage: Buffer.Storage, shape: [Int], strides: [Int], block: Int) -> Buffer.Storage {
        switch storage {
        case .float(let v): .float(permute(v, shape: shape, strides: strides, block: block))
        case .double(let v): .double(permute(v, shape: shape, strides: strides, block: block))
        case .int64(let v): .int64(permute(v, shape: shape, strides: strides, block: block))
        case .bool(let v): .bool(permute(v, shape: shape, strides: strides, block: block))
        }
    }

    /// `shape` and `strides`: the walked output axes (before the block) and their source strides.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    @_specialize(where T == Int64)
    static func permute<T>(_ values: [T], shape: [Int], strides: [Int], block: Int) -> [T] {
        let outer = shape.dropLast().reduce(1, *), inner = shape.last ?? 1, step = strides.last ?? 0
        let count = outer * inner * block
        return [T](filling: count) { out in
            values.withUnsafeBufferPointer { source in
                guard count > 0, let from = source.baseAddress, var to = out.baseAddress else { return }
                let axes = shape.count - 1
                var index = [Int](repeating: 0, count: max(axes, 0))
                var offset = 0
                for _ in 0..<outer {
                    if block == 1 {
                        for j in 0..<inner { (to + j).initialize(to: from[offset + j * step]) }
                    } else if block <= 32 {
                        // Short blocks (MobileViT's heads of 16–24) by a plain loop: a memmove call
                        // per block cost more than the copy.
                        for j in 0..<inner {
                            let source = from + offset + j * step, target = to + j * block
                            for e in 0..<block { (target + e).initialize(to: source[e]) }
                        }
                    } else {
                        for j in 0..<inner { (to + j * block).initialize(from: from + offset + j * step, count: block) }
                    }
                    to += inner * block
                    // The odometer over the axes before the inner one.
                    ShapeOperators.advance(&index, &offset, shape: shape, strides: strides, axes: axes)
                }
            }
        }
    }
}
