/// GridSample (opsets 16, 20, 22): `Y[n, c, p] = sample(X[n, c], grid[n, p])` for every output
/// point `p` of the grid, whose last axis holds normalized coordinates in `[−1, 1]` ordered
/// (x, y[, z]) — the last spatial axis first.
///
/// A normalized coordinate `g` on an axis of length `L` is `(g + 1)/2·(L − 1)` with
/// `align_corners`, else `((g + 1)·L − 1)/2`. Outside `[lo, hi]` (`[0, L − 1]` with
/// align_corners, else `[−0.5, L − 0.5]`) border padding clamps it to `[0, L − 1]` and reflection
/// mirrors it at `lo` and `hi` until inside. Nearest rounds it half to even; linear reads the two
/// taps `⌊x⌋, ⌊x⌋ + 1`, cubic the four `⌊x⌋ − 1 … ⌊x⌋ + 2` (Keys' kernel, a = −0.75); a tap
/// outside the axis reads 0 (zeros), the nearest end (border) or its mirror (reflection). The
/// N-D sample is the product of the per-axis weights.
enum GridSample {
    enum Mode { case nearest, linear, cubic }
    enum Padding: String { case zeros, border, reflection }

    static func evaluate(_ context: NodeContext) throws(InterpreterError) -> Buffer {
        let x = try context.input(0), grid = try context.input(1)
        let modeName = try context.string("mode", context.opset >= 20 ? "linear" : "bilinear")
        let mode: Mode
        switch (modeName, context.opset >= 20) {
        case ("nearest", _): mode = .nearest
        case ("bilinear", false), ("linear", true): mode = .linear
        case ("bicubic", false), ("cubic", true): mode = .cubic
        default: throw context.unsupported("mode", modeName)
        }
        let paddingName = try context.string("padding_mode", "zeros")
        guard let padding = Padding(rawValue: paddingName) else { throw context.unsupported("padding_mode", paddingName) }
        let alignCorners = try context.int("align_corners", 0) != 0
        let rank = x.shape.count
        guard rank == 4 || (rank == 5 && context.opset >= 20) else {
            throw context.unsupported("input rank", "\(rank) (GridSample takes (N, C, H, W)\(context.opset >= 20 ? " or (N, C, D, H, W)" : ""))")
        }
        let spatial = rank - 2
        guard grid.shape.count == rank, grid.shape[0] == x.shape[0], grid.shape[rank - 1] == spatial else {
            throw context.fail("grid of shape \(grid.shape) does not fit input \(x.shape): it must be (N, …, \(spatial)) of rank \(rank)")
        }
        let shape = [x.shape[0], x.shape[1]] + grid.shape[1..<(rank - 1)]
        _ = try context.elementCount(of: shape)
        let settings = Settings(mode: mode, padding: padding, alignCorners: alignCorners)
        switch (x.storage, grid.storage) {
        case (.float(let v), .float(let g)): return Buffer(shape: shape, storage: .float(sample(v, x.shape, g, shape, settings)))
        case (.double(let v), .double(let g)): return Buffer(shape: shape, storage: .double(sample(v, x.shape, g, shape, settings)))
        default: throw context.fail("X (\(x.typeName)) and grid (\(grid.typeName)) must both be floating-point")
        }
    }

    struct Settings {
        var mode: Mode
        var padding: Padding
        var alignCorners: Bool
    }

    /// The reflection of `x` into `[lo, hi]`.
    static func reflect(_ x: Double, _ lo: Double, _ hi: Double) -> Double {
        let range = hi - lo
        guard range > 0 else { return lo }
        if x < lo {
            let distance = lo - x
            let folds = (distance / range).rounded(.towardZero)
            let rest = distance - folds * range
            return folds.truncatingRemainder(dividingBy: 2) == 0 ? lo + rest : hi - rest
        }
        if x > hi {
            let distance = x - hi
            let folds = (distance / range).rounded(.towardZero)
            let rest = distance - folds * range
            return folds.truncatingRemainder(dividingBy: 2) == 0 ? hi - rest : lo + rest
        }
        return x
    }

    static func cubicWeights(_ t: Double) -> (Double, Double, Double, Double) {
        (Resize.cubicKernel(t + 1, -0.75), Resize.cubicKernel(t, -0.75), Resize.cubicKernel(1 - t, -0.75), Resize.cubicKernel(2 - t, -0.75))
    }

    private static func sample<T: InterpreterScalar>(_ x: [T], _ xShape: [Int], _ grid: [T], _ shape: [Int], _ settings: Settings) -> [T] {
        let rank = xShape.count, spatial = rank - 2
        let batch = xShape[0], channels = xShape[1]
        let sizes = Array(xShape[2...])
        let plane = sizes.reduce(1, *)
        let points = shape[2...].reduce(1, *)
        let strides = ShapeOperators.contiguousStrides(sizes)
        let tapsPerAxis = settings.mode == .nearest ? 1 : settings.mode == .linear ? 2 : 4
        var combinations = 1
        for _ in 0..<spatial { combinations *= tapsPerAxis }
        // Scratch reused for every point: per axis its taps, then their products.
        var axisIndex = [Int](repeating: 0, count: spatial * tapsPerAxis)
        var axisWeight = [Double](repeating: 0, count: spatial * tapsPerAxis)
        var offsets = [Int](repeating: 0, count: combinations)
        var weights = [T](repeating: 0, count: combinations)
        return [T](filling: batch * channels * points) { out in
            x.withUnsafeBufferPointer { input in
                for n in 0..<batch {
                    for p in 0..<points {
                        let coordinates = (n * points + p) * spatial
                        for axis in 0..<spatial {
                            // The grid lists the last spatial axis first.
                            let g = Double(grid[coordinates + spatial - 1 - axis])
                            resolveAxis(g, size: sizes[axis], settings, into: &axisIndex, &axisWeight, at: axis * tapsPerAxis)
                        }
                        for combination in 0..<combinations {
                            var rest = combination, offset = 0, weight = 1.0
                            for axis in (0..<spatial).reversed() {
                                let k = axis * tapsPerAxis + rest % tapsPerAxis
                                rest /= tapsPerAxis
                                let index = axisIndex[k]
                                offset = index < 0 || offset < 0 ? -1 : offset + index * strides[axis]
                                weight *= axisWeight[k]
                            }
                            offsets[combination] = offset
                            weights[combination] = T(weight)
                        }
                        for c in 0..<channels {
                            let base = (n * channels + c) * plane
                            var sum: T = 0
                            for k in 0..<combinations {
                                let value = offsets[k] < 0 ? 0 : input[base + offsets[k]]
                                sum += weights[k] * value
                            }
                            out[(n * channels + c) * points + p] = sum
                        }
                    }
                }
            }
        }
    }

    /// One axis of one point: its taps' indices (−1 reads zero) and weights.
    private static func resolveAxis(_ g: Double, size: Int, _ settings: Settings, into indices: inout [Int], _ weights: inout [Double], at start: Int) {
        let length = Double(size)
        var x = settings.alignCorners ? (g + 1) / 2 * (length - 1) : ((g + 1) * length - 1) / 2
        let lo = settings.alignCorners ? 0 : -0.5, hi = settings.alignCorners ? length - 1 : length - 0.5
        if settings.mode == .nearest { x = x.rounded(.toNearestOrEven) }
        if x < lo || x > hi {
            switch settings.padding {
            case .zeros: break
            case .border: x = min(max(x, 0), length - 1)
            case .reflection: x = reflect(x, lo, hi)
            }
        }
        guard x.isFinite, abs(x) < 0x1p40 else {
            // NaN stays NaN; a coordinate this far out reads only padding zeros.
            let weight = x.isNaN ? Double.nan : 0
            let taps = settings.mode == .nearest ? 1 : settings.mode == .linear ? 2 : 4
            for k in 0..<taps {
                indices[start + k] = settings.padding == .zeros || size == 0 ? -1 : 0
                weights[start + k] = weight
            }
            return
        }
        func tap(_ i: Int) -> Int {
            switch settings.padding {
            case .zeros: return i >= 0 && i < size ? i : -1
            case .border: return min(max(i, 0), size - 1)
            case .reflection: return min(max(Int(reflect(Double(i), lo, hi).rounded(.towardZero)), 0), size - 1)
            }
        }
        switch settings.mode {
        case .nearest:
            indices[start] = tap(Int(x.rounded(.towardZero)))
            weights[start] = 1
        case .linear:
            let base = x.rounded(.down), t = x - base, i = Int(base)
            indices[start] = tap(i)
            indices[start + 1] = tap(i + 1)
            weights[start] = 1 - t
            weights[start + 1] = t
        case .cubic:
            let base = x.rounded(.down), i = Int(base)
            let w = cubicWeights(x - base)
            for k in 0..<4 { indices[start + k] = tap(i - 1 + k) }
            (weights[start], weights[start + 1], weights[start + 2], weights[start + 3]) = w
        }
    }
}
