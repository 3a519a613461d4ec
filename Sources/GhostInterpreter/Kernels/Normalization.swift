/// BatchNormalization (inference), LayerNormalization and Softmax.
enum Normalization {
    static func batchNorm(_ context: NodeContext) throws(InterpreterError) -> Buffer {
        if try context.int("training_mode", 0) != 0 {
            throw context.unsupported("training_mode", "1 (only inference BatchNormalization runs here)")
        }
        let x = try context.input(0)
        guard x.shape.count >= 2 else { throw context.fail("input must be N×C×…, got \(x.shape)") }
        let epsilon = Double(try context.float("epsilon", 1e-5))
        let parameters: [[Double]] = try (1...4).map { (index: Int) throws(InterpreterError) -> [Double] in try context.input(index).doubleValues }
        let channels = x.shape[1]
        guard parameters.allSatisfy({ $0.count == channels }) else { throw context.fail("parameters must have \(channels) values") }
        let plane = x.shape.dropFirst(2).reduce(1, *)
        func apply<T: InterpreterScalar>(_ values: [T]) -> [T] {
            // In the run's precision and in ONNX Runtime's order: s = γ·(1/√(σ²+ε)), t = β − μ·s,
            // y = x·s + t, so float32 runs round the way a deployment does.
            let scale = (0..<channels).map { T(parameters[0][$0]) * (1 / (T(parameters[3][$0]) + T(epsilon)).squareRoot()) }
            let shift = (0..<channels).map { T(parameters[1][$0]) - T(parameters[2][$0]) * scale[$0] }
            return [T](unsafeUninitializedCapacity: values.count) { out, initialized in
                values.withUnsafeBufferPointer { x in
                    for block in 0..<(x.count / max(plane, 1)) {
                        let c = block % channels, s = scale[c], t = shift[c]
                        for i in (block * plane)..<((block + 1) * plane) { out.initializeElement(at: i, to: x[i] * s + t) }
                    }
                }
                initialized = values.count
            }
        }
        switch x.storage {
        case .float(let v): return Buffer(shape: x.shape, storage: .float(apply(v)))
        case .double(let v): return Buffer(shape: x.shape, storage: .double(apply(v)))
        default: throw context.fail("expects floating-point input")
        }
    }

    /// Splits a shape at `axis` into (outer, axisSize, inner) element counts.
    static func split(_ shape: [Int], at axis: Int) -> (Int, Int, Int) {
        (shape[..<axis].reduce(1, *), shape[axis], shape[(axis + 1)...].reduce(1, *))
    }

    static func softmax(_ context: NodeContext) throws(InterpreterError) -> Buffer {
        let x = try context.input(0)
        let axis = try context.axis(try context.int("axis", context.opset >= 13 ? -1 : 1), rank: x.shape.count)
        // Before opset 13 the input is coerced to 2-D at `axis`: normalize over all trailing axes.
        let (outer, size, inner) = context.opset >= 13 ? split(x.shape, at: axis) : (x.shape[..<axis].reduce(1, *), x.shape[axis...].reduce(1, *), 1)
        func apply<T: InterpreterScalar>(_ v: [T]) -> [T] {
            var out = v
            for o in 0..<outer {
                for i in 0..<inner {
                    var peak = -T.infinity
                    for s in 0..<size { peak = max(peak, v[(o * size + s) * inner + i]) }
                    var sum: T = 0
                    for s in 0..<size {
                        let e = T.exponential(v[(o * size + s) * inner + i] - peak)
                        out[(o * size + s) * inner + i] = e
                        sum += e
                    }
                    for s in 0..<size { out[(o * size + s) * inner + i] /= sum }
                }
            }
            return out
        }
        switch x.storage {
        case .float(let v): return Buffer(shape: x.shape, storage: .float(apply(v)))
        case .double(let v): return Buffer(shape: x.shape, storage: .double(apply(v)))
        default: throw context.fail("expects floating-point input")
        }
    }

    static func layerNorm(_ context: NodeContext) throws(InterpreterError) -> [Buffer] {
        let x = try context.input(0)
        let axis = try context.axis(try context.int("axis", -1), rank: x.shape.count)
        let epsilon = Double(try context.float("epsilon", 1e-5))
        let outer = x.shape[..<axis].reduce(1, *), size = x.shape[axis...].reduce(1, *)
        let scale = try context.input(1).doubleValues, bias = context.optionalInput(2)?.doubleValues
        guard scale.count == size || scale.count == 1 else { throw context.fail("scale has \(scale.count) values for \(size)") }
        if let bias, bias.count != size, bias.count != 1 { throw context.fail("bias has \(bias.count) values for \(size)") }
        /// y, and the optional Mean and InvStdDev outputs (shape: leading axes, then ones).
        func apply<T: InterpreterScalar>(_ v: [T]) -> ([T], [T], [T]) {
            var out = v
            var means = [T](repeating: 0, count: outer), inverses = [T](repeating: 0, count: outer)
            for o in 0..<outer {
                var mean: T = 0
                for s in 0..<size { mean += v[o * size + s] }
                mean /= T(size)
                var variance: T = 0
                for s in 0..<size { let d = v[o * size + s] - mean; variance += d * d }
                let inverse = 1 / (variance / T(size) + T(epsilon)).squareRoot()
                (means[o], inverses[o]) = (mean, inverse)
                for s in 0..<size {
                    let g = T(scale.count == 1 ? scale[0] : scale[s]), b = T(bias.map { $0.count == 1 ? $0[0] : $0[s] } ?? 0)
                    out[o * size + s] = (v[o * size + s] - mean) * inverse * g + b
                }
            }
            return (out, means, inverses)
        }
        let statisticsShape = Array(x.shape[..<axis]) + [Int](repeating: 1, count: x.shape.count - axis)
        switch x.storage {
        case .float(let v):
            let (y, m, i) = apply(v)
            return [Buffer(shape: x.shape, storage: .float(y)), Buffer(shape: statisticsShape, storage: .float(m)), Buffer(shape: statisticsShape, storage: .float(i))]
        case .double(let v):
            let (y, m, i) = apply(v)
            return [Buffer(shape: x.shape, storage: .double(y)), Buffer(shape: statisticsShape, storage: .double(m)), Buffer(shape: statisticsShape, storage: .double(i))]
        default: throw context.fail("expects floating-point input")
        }
    }
}
