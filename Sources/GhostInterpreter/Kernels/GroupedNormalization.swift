import CKernels

/// Means and variances of contiguous runs, in the run's precision, two passes (mean, then the
/// mean squared deviation). Eight running partial sums, as a vectorized reduction (ONNX Runtime's
/// Eigen) keeps them, so long planes round about as ORT's do.
enum Moments {
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func sum<T: InterpreterScalar>(_ p: UnsafePointer<T>, _ count: Int) -> T {
        var lanes = (T(0), T(0), T(0), T(0), T(0), T(0), T(0), T(0))
        var index = 0
        while index + 8 <= count {
            lanes.0 += p[index]; lanes.1 += p[index + 1]; lanes.2 += p[index + 2]; lanes.3 += p[index + 3]
            lanes.4 += p[index + 4]; lanes.5 += p[index + 5]; lanes.6 += p[index + 6]; lanes.7 += p[index + 7]
            index += 8
        }
        var total = ((lanes.0 + lanes.1) + (lanes.2 + lanes.3)) + ((lanes.4 + lanes.5) + (lanes.6 + lanes.7))
        while index < count { total += p[index]; index += 1 }
        return total
    }

    /// Σ (p[i] − mean)².
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func squaredDeviations<T: InterpreterScalar>(_ p: UnsafePointer<T>, _ count: Int, mean: T) -> T {
        var lanes = (T(0), T(0), T(0), T(0), T(0), T(0), T(0), T(0))
        var index = 0
        while index + 8 <= count {
            let d0 = p[index] - mean, d1 = p[index + 1] - mean, d2 = p[index + 2] - mean, d3 = p[index + 3] - mean
            let d4 = p[index + 4] - mean, d5 = p[index + 5] - mean, d6 = p[index + 6] - mean, d7 = p[index + 7] - mean
            lanes.0 += d0 * d0; lanes.1 += d1 * d1; lanes.2 += d2 * d2; lanes.3 += d3 * d3
            lanes.4 += d4 * d4; lanes.5 += d5 * d5; lanes.6 += d6 * d6; lanes.7 += d7 * d7
            index += 8
        }
        var total = ((lanes.0 + lanes.1) + (lanes.2 + lanes.3)) + ((lanes.4 + lanes.5) + (lanes.6 + lanes.7))
        while index < count {
            let d = p[index] - mean
            total += d * d
            index += 1
        }
        return total
    }

    /// (mean, population variance) of a run; NaN for an empty one.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func meanAndVariance<T: InterpreterScalar>(_ p: UnsafePointer<T>, _ count: Int) -> (T, T) {
        let mean = sum(p, count) / T(count)
        return (mean, squaredDeviations(p, count, mean: mean) / T(count))
    }
}

/// InstanceNormalization and GroupNormalization: statistics over each image's channel (or group
/// of channels), then a per-channel (or per-group) scale and shift.
enum GroupedNormalization {
    /// y = x·s + t per (image, channel) with s = scale[c]·(1/√(σ² + ε)), t = B[c] − μ·s, μ and σ²
    /// over the channel's spatial elements — ONNX Runtime's arithmetic, in the run's precision.
    static func instanceNorm(_ context: NodeContext) throws(InterpreterError) -> Buffer {
        let x = try context.input(0)
        guard x.shape.count >= 3 else { throw context.fail("input must be N×C×D1…, got \(x.shape)") }
        let channels = x.shape[1], plane = x.shape.dropFirst(2).reduce(1, *)
        let scale = try context.input(1).doubleValues, shift = try context.input(2).doubleValues
        guard scale.count == channels, shift.count == channels else {
            throw context.fail("scale and B have \(scale.count) and \(shift.count) values for \(channels) channels")
        }
        let epsilon = Double(try context.float("epsilon", 1e-5))
        func apply<T: InterpreterScalar>(_ values: [T]) -> [T] {
            guard plane > 0 else { return values }
            let none = ActivationKernel(code: Int32(GK_ACT_NONE))
            return [T](filling: values.count) { out in
                values.withUnsafeBufferPointer { source in
                    for block in 0..<(values.count / plane) {
                        let c = block % channels, start = source.baseAddress! + block * plane
                        let (mean, variance) = Moments.meanAndVariance(start, plane)
                        let s = (1 / (variance + T(epsilon)).squareRoot()) * T(scale[c])
                        T.epilogue(out.baseAddress! + block * plane, start, plane, bias: nil, affine: (s, T(shift[c]) - mean * s), none)
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

    /// y = scale·((x − μ)/√(σ² + ε)) + bias, μ and σ² over each image's group of C/G channels
    /// (all their spatial elements). Opset 18 has a scale and bias per group, opset 21 per
    /// channel. `stash_type` double computes the first stage in float64; float32 (the default)
    /// in the run's precision; float16/bfloat16 are refused.
    static func groupNorm(_ context: NodeContext) throws(InterpreterError) -> Buffer {
        let x = try context.input(0)
        guard x.shape.count >= 2 else { throw context.fail("input must be N×C×…, got \(x.shape)") }
        guard context.node.attribute("num_groups") != nil else { throw context.fail("the num_groups attribute is required") }
        let groups = try context.int("num_groups", 0)
        let channels = x.shape[1], plane = x.shape.dropFirst(2).reduce(1, *)
        guard groups >= 1, channels % groups == 0 else {
            throw context.fail("num_groups \(groups) does not divide the \(channels) channels")
        }
        let perChannel = context.opset >= 21
        let expected = perChannel ? channels : groups
        let scale = try context.input(1).doubleValues, bias = try context.input(2).doubleValues
        guard scale.count == expected || scale.count == 1, bias.count == expected || bias.count == 1 else {
            throw context.fail("scale and bias have \(scale.count) and \(bias.count) values for \(expected) \(perChannel ? "channels" : "groups")")
        }
        let stash = try context.int("stash_type", 1)
        switch stash {
        case 1, 11: break
        case 10, 16: throw context.unsupported("stash_type", "\(stash) (half-precision statistics)")
        default: throw context.fail("stash_type \(stash) is not a floating-point type")
        }
        let epsilon = Double(try context.float("epsilon", 1e-5))
        let groupSize = channels / groups * plane
        let layout = GroupLayout(groups: groups, channelsPerGroup: channels / groups, plane: plane, perChannel: perChannel,
                                 scale: scale, bias: bias)
        switch x.storage {
        case .float(let v):
            guard stash == 11, !v.isEmpty else {
                return Buffer(shape: x.shape, storage: .float(layout.affine(normalized(v, groupSize: groupSize, epsilon: Float(epsilon)))))
            }
            let wide = normalized(v.map(Double.init), groupSize: groupSize, epsilon: Double(Float(epsilon)))
            return Buffer(shape: x.shape, storage: .float(layout.affine(wide.map { Float($0) })))
        case .double(let v):
            return Buffer(shape: x.shape, storage: .double(layout.affine(normalized(v, groupSize: groupSize, epsilon: epsilon))))
        default: throw context.fail("expects floating-point input")
        }
    }

    /// Stage one: (x − μ)/√(σ² + ε) over each contiguous group of `groupSize` elements.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    private static func normalized<T: InterpreterScalar>(_ values: [T], groupSize: Int, epsilon: T) -> [T] {
        guard groupSize > 0 else { return values }
        return [T](filling: values.count) { out in
            values.withUnsafeBufferPointer { source in
                for block in 0..<(values.count / groupSize) {
                    let start = source.baseAddress! + block * groupSize, target = out.baseAddress! + block * groupSize
                    let (mean, variance) = Moments.meanAndVariance(start, groupSize)
                    let deviation = (variance + epsilon).squareRoot()
                    for index in 0..<groupSize { target[index] = (start[index] - mean) / deviation }
                }
            }
        }
    }

    /// Stage two of GroupNormalization: scale and bias per channel or per group.
    private struct GroupLayout {
        let groups: Int, channelsPerGroup: Int, plane: Int, perChannel: Bool
        let scale: [Double], bias: [Double]

        func affine<T: InterpreterScalar>(_ values: [T]) -> [T] {
            guard plane > 0 else { return values }
            var out = values
            let channels = groups * channelsPerGroup
            out.withUnsafeMutableBufferPointer { o in
                for block in 0..<(o.count / plane) {
                    let c = block % channels
                    let index = perChannel ? c : c / channelsPerGroup
                    let s = T(scale.count == 1 ? scale[0] : scale[index]), b = T(bias.count == 1 ? bias[0] : bias[index])
                    let start = o.baseAddress! + block * plane
                    for i in 0..<plane { start[i] = s * start[i] + b }
                }
            }
            return out
        }
    }
}
