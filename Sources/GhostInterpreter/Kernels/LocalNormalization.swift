/// LpNormalization, LRN and MeanVarianceNormalization, each computed the way ONNX Runtime's CPU
/// kernel computes it (so NaN, ±inf and zeros come out the same), in the run's precision.
enum LocalNormalization {
    /// y = x / ‖x‖ₚ along `axis` (default −1), p = 1 (Σ|x|) or 2 (√Σx²); a zero norm gives 0,
    /// as ONNX Runtime does (so does a float32 norm that underflows to 0).
    static func lpNorm(_ context: NodeContext) throws(InterpreterError) -> Buffer {
        let x = try context.input(0)
        let axis = try context.axis(try context.int("axis", -1), rank: x.shape.count)
        let p = try context.int("p", 2)
        guard p == 1 || p == 2 else { throw context.fail("p = \(p); LpNormalization takes p = 1 or 2") }
        let (outer, size, inner) = Normalization.split(x.shape, at: axis)
        func apply<T: InterpreterScalar>(_ values: [T]) -> [T] {
            guard !values.isEmpty else { return values }
            var norms = [T](repeating: 0, count: inner)
            return [T](filling: values.count) { out in
                values.withUnsafeBufferPointer { source in
                    norms.withUnsafeMutableBufferPointer { norm in
                        for o in 0..<outer {
                            let block = o * size * inner
                            norm.update(repeating: 0)
                            // Accumulate a whole row of `inner` norms at once: rows are contiguous.
                            for a in 0..<size {
                                let row = source.baseAddress! + block + a * inner
                                if p == 1 {
                                    for i in 0..<inner { norm[i] += row[i].magnitude }
                                } else {
                                    for i in 0..<inner { norm[i] += row[i] * row[i] }
                                }
                            }
                            if p == 2 { for i in 0..<inner { norm[i] = norm[i].squareRoot() } }
                            for a in 0..<size {
                                let row = source.baseAddress! + block + a * inner, target = out.baseAddress! + block + a * inner
                                for i in 0..<inner { target[i] = norm[i] != 0 ? row[i] / norm[i] : 0 }
                            }
                        }
                    }
                }
            }
        }
        switch x.storage {
        case .float(let v): return Buffer(shape: x.shape, storage: .float(apply(v)))
        case .double(let v): return Buffer(shape: x.shape, storage: .double(apply(v)))
        default: throw context.fail("expects floating-point input")
        }
    }

    /// y = x · (bias + α/size · Σ x²)^(−β), the sum over channels c − ⌊(size−1)/2⌋ … c + ⌈(size−1)/2⌉
    /// (those that exist). As in ONNX Runtime the window sum slides: channel c's is channel c−1's
    /// plus the channel entering and minus the one leaving, so a NaN or ±inf makes every later
    /// channel of that position NaN (inf − inf), and the rounding is ORT's.
    static func lrn(_ context: NodeContext) throws(InterpreterError) -> Buffer {
        let x = try context.input(0)
        guard x.shape.count >= 3 else { throw context.fail("input must be N×C×D1…, got \(x.shape)") }
        guard context.node.attribute("size") != nil else { throw context.fail("the size attribute is required") }
        let size = try context.int("size", 1)
        guard size >= 1 else { throw context.fail("size \(size) must be positive") }
        let alpha = try context.float("alpha", 1e-4), beta = try context.float("beta", 0.75), bias = try context.float("bias", 1)
        let channels = x.shape[1], plane = x.shape.dropFirst(2).reduce(1, *)
        let before = (size - 1) / 2, after = size - 1 - before
        func apply<T: InterpreterScalar>(_ values: [T]) -> [T] {
            guard !values.isEmpty else { return values }
            let a = T(alpha) / T(size), exponent = -T(beta)
            // What a tap on a zero-padded channel adds: +0 (or NaN for a non-finite α/size).
            let padAdded = a * 0, padRemoved = -a * 0
            var scale = [T](repeating: 0, count: channels * plane), weighted = scale
            return [T](filling: values.count) { out in
                values.withUnsafeBufferPointer { source in
                    scale.withUnsafeMutableBufferPointer { s in
                        weighted.withUnsafeMutableBufferPointer { w in
                            for image in 0..<(values.count / (channels * plane)) {
                                let x = source.baseAddress! + image * channels * plane
                                for i in 0..<(channels * plane) { w[i] = a * (x[i] * x[i]) }
                                // The first channel's window, taps in ORT's order: leading pads,
                                // channels 0 … after, trailing pads.
                                for i in 0..<plane { s[i] = T(bias) }
                                if before > 0 { for i in 0..<plane { s[i] += padAdded } }
                                for c in 0..<min(channels, after + 1) {
                                    for i in 0..<plane { s[i] += w[c * plane + i] }
                                }
                                if after + 1 > channels { for i in 0..<plane { s[i] += padAdded } }
                                for c in 1..<max(channels, 1) {
                                    let current = s.baseAddress! + c * plane, previous = current - plane
                                    let entering = c + after, leaving = c - 1 - before
                                    for i in 0..<plane { current[i] = previous[i] + (entering < channels ? w[entering * plane + i] : padAdded) }
                                    for i in 0..<plane { current[i] += leaving >= 0 ? -w[leaving * plane + i] : padRemoved }
                                }
                                let y = out.baseAddress! + image * channels * plane
                                for i in 0..<(channels * plane) { y[i] = x[i] * T.power(s[i], exponent) }
                            }
                        }
                    }
                }
            }
        }
        switch x.storage {
        case .float(let v): return Buffer(shape: x.shape, storage: .float(apply(v)))
        case .double(let v): return Buffer(shape: x.shape, storage: .double(apply(v)))
        default: throw context.fail("expects floating-point input")
        }
    }

    /// y = (x − E[x]) / √E[(x − E[x])²] over `axes` (default [0, 2, 3]), as ONNX Runtime's kernel
    /// computes it: axes out of range are dropped, repeats ignored, and no ε is added (a constant
    /// slice gives 0/0 = NaN).
    static func meanVarianceNorm(_ context: NodeContext) throws(InterpreterError) -> Buffer {
        let x = try context.input(0)
        let rank = x.shape.count
        var reduced = [Bool](repeating: false, count: rank)
        for axis in try context.ints("axes") ?? [0, 2, 3] where axis >= -rank && axis < rank {
            reduced[axis < 0 ? axis + rank : axis] = true
        }
        // Neighbouring axes that are both reduced or both kept act as one.
        var runs: [(size: Int, reduced: Bool)] = []
        for axis in 0..<rank {
            if let last = runs.last, last.reduced == reduced[axis] {
                runs[runs.count - 1].size = last.size * x.shape[axis]
            } else {
                runs.append((x.shape[axis], reduced[axis]))
            }
        }
        if runs.isEmpty { runs = [(1, false)] }
        let length = runs[runs.count - 1].size, lastReduced = runs[runs.count - 1].reduced
        let groups = runs.filter { !$0.reduced }.reduce(1) { $0 * $1.size }
        let members = runs.filter(\.reduced).reduce(1) { $0 * $1.size }
        // The first statistics slot each contiguous row of `length` elements uses.
        let rowCount = length == 0 ? 0 : x.count / length
        var rowGroups = [Int](repeating: 0, count: rowCount)
        if rowCount > 0 {
            var index = [Int](repeating: 0, count: runs.count - 1)
            for row in 0..<rowCount {
                var group = 0
                for (k, run) in runs.dropLast().enumerated() where !run.reduced { group = group * run.size + index[k] }
                rowGroups[row] = lastReduced ? group : group * length
                var k = runs.count - 2
                while k >= 0 {
                    index[k] += 1
                    if index[k] < runs[k].size { break }
                    index[k] = 0
                    k -= 1
                }
            }
        }
        func apply<T: InterpreterScalar>(_ values: [T]) -> [T] {
            guard !values.isEmpty else { return values }
            var mean = [T](repeating: 0, count: groups), deviation = mean
            values.withUnsafeBufferPointer { source in
                for (row, group) in rowGroups.enumerated() {
                    let start = source.baseAddress! + row * length
                    if lastReduced {
                        mean[group] += Moments.sum(start, length)
                    } else {
                        for j in 0..<length { mean[group + j] += start[j] }
                    }
                }
                for g in 0..<groups { mean[g] /= T(members) }
                for (row, group) in rowGroups.enumerated() {
                    let start = source.baseAddress! + row * length
                    if lastReduced {
                        deviation[group] += Moments.squaredDeviations(start, length, mean: mean[group])
                    } else {
                        for j in 0..<length { let d = start[j] - mean[group + j]; deviation[group + j] += d * d }
                    }
                }
            }
            for g in 0..<groups { deviation[g] = (deviation[g] / T(members)).squareRoot() }
            return [T](filling: values.count) { out in
                values.withUnsafeBufferPointer { source in
                    for (row, group) in rowGroups.enumerated() {
                        let start = source.baseAddress! + row * length, target = out.baseAddress! + row * length
                        if lastReduced {
                            let (m, d) = (mean[group], deviation[group])
                            for j in 0..<length { target[j] = (start[j] - m) / d }
                        } else {
                            for j in 0..<length { target[j] = (start[j] - mean[group + j]) / deviation[group + j] }
                        }
                    }
                }
            }
        }
        switch x.storage {
        case .float(let v): return Buffer(shape: x.shape, storage: .float(apply(v)))
        case .double(let v): return Buffer(shape: x.shape, storage: .double(apply(v)))
        default: throw context.fail("expects floating-point input")
        }
    }
}
