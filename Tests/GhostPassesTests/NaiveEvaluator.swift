import GhostIR
import TestSupport

/// A deliberately simple Float64 evaluator for the few ops the pass tests use (Conv, BN, Add,
/// Sub, Mul, Div, Relu, Identity, AveragePool, Gemm, MatMul, Flatten, Reshape, Transpose, Pad
/// in constant mode, ScatterND): an oracle independent of GhostInterpreter, written for
/// obviousness, not speed.
struct NaiveEvaluator {
    struct Array4 {
        var shape: [Int]
        var values: [Double]

        subscript(n: Int, c: Int, h: Int, w: Int) -> Double {
            values[((n * shape[1] + c) * shape[2] + h) * shape[3] + w]
        }
    }

    enum Failure: Error { case unsupported(String) }

    static func run(_ graph: Graph, input: Array4) throws -> [String: Array4] {
        var values: [String: Array4] = [graph.runtimeInputs[0].name: input]
        for entry in graph.initializers {
            values[entry.name] = Array4(shape: entry.tensor.shape, values: entry.tensor.doubleValues())
        }
        for node in try graph.topologicallySortedNodes() {
            let inputs = try node.inputs.map { name -> Array4? in
                guard !name.isEmpty else { return nil }
                guard let value = values[name] else { throw Failure.unsupported("missing \(name)") }
                return value
            }
            values[node.outputs[0]] = try evaluate(node, inputs)
        }
        return values
    }

    private static func evaluate(_ node: Node, _ inputs: [Array4?]) throws -> Array4 {
        switch node.opType {
        case "Conv": return try conv(node, inputs[0]!, inputs[1]!, inputs.count > 2 ? inputs[2] : nil)
        case "BatchNormalization":
            let x = inputs[0]!
            let epsilon = Double(node.attribute("epsilon")?.floatValue ?? 1e-5)
            var out = x
            let inner = x.shape.dropFirst(2).reduce(1, *)
            for index in out.values.indices {
                let c = (index / inner) % x.shape[1]
                let (g, b, m, v) = (inputs[1]!.values[c], inputs[2]!.values[c], inputs[3]!.values[c], inputs[4]!.values[c])
                out.values[index] = g * (x.values[index] - m) / (v + epsilon).squareRoot() + b
            }
            return out
        case "Relu":
            var out = inputs[0]!
            out.values = out.values.map { max($0, 0) }
            return out
        case "Identity", "Dropout":
            return inputs[0]!
        case "Add", "Sub", "Mul", "Div":
            return try broadcast(node.opType, inputs[0]!, inputs[1]!)
        case "AveragePool": return averagePool(node, inputs[0]!)
        case "Gemm": return gemm(node, inputs[0]!, inputs[1]!, inputs.count > 2 ? inputs[2] : nil)
        case "MatMul":
            let (x, w) = (inputs[0]!, inputs[1]!)
            let (k, n) = (w.shape[0], w.shape[1]), rows = x.values.count / k
            var out = Array4(shape: Array(x.shape.dropLast()) + [n], values: Array(repeating: 0, count: rows * n))
            for r in 0..<rows {
                for j in 0..<n {
                    var sum = 0.0
                    for i in 0..<k { sum += x.values[r * k + i] * w.values[i * n + j] }
                    out.values[r * n + j] = sum
                }
            }
            return out
        case "Flatten":
            var x = inputs[0]!
            var axis = Int(node.attribute("axis")?.intValue ?? 1)
            if axis < 0 { axis += x.shape.count }
            x.shape = [x.shape.prefix(axis).reduce(1, *), x.shape.dropFirst(axis).reduce(1, *)]
            return x
        case "Reshape":
            var x = inputs[0]!
            var shape = inputs[1]!.values.enumerated().map { $0.element == 0 ? x.shape[$0.offset] : Int($0.element) }
            if let free = shape.firstIndex(of: -1) { shape[free] = x.values.count / shape.filter { $0 != -1 }.reduce(1, *) }
            x.shape = shape
            return x
        case "Transpose":
            return transpose(node, inputs[0]!)
        case "Pad": return try pad(node, inputs)
        case "ScatterND": return try scatterND(inputs[0]!, inputs[1]!, inputs[2]!)
        default:
            throw Failure.unsupported(node.opType)
        }
    }

    /// Row-major strides of `shape`.
    private static func strides(_ shape: [Int]) -> [Int] {
        var result = [Int](repeating: 1, count: shape.count)
        for axis in stride(from: shape.count - 2, through: 0, by: -1) { result[axis] = result[axis + 1] * shape[axis + 1] }
        return result
    }

    /// The coordinates of row-major `offset` in `shape`.
    private static func coordinates(_ offset: Int, _ shape: [Int]) -> [Int] {
        var rest = offset, result = [Int](repeating: 0, count: shape.count)
        for axis in stride(from: shape.count - 1, through: 0, by: -1) {
            result[axis] = rest % shape[axis]
            rest /= shape[axis]
        }
        return result
    }

    /// y[i] = x[i permuted back]: axis a of y is axis perm[a] of x (perm defaults to reversed).
    private static func transpose(_ node: Node, _ x: Array4) -> Array4 {
        let perm = node.attribute("perm")?.intsValue?.map { Int($0) } ?? Array((0..<x.shape.count).reversed())
        let shape = perm.map { x.shape[$0] }, inStrides = strides(x.shape)
        var out = Array4(shape: shape, values: Array(repeating: 0, count: x.values.count))
        for offset in out.values.indices {
            let at = coordinates(offset, shape)
            out.values[offset] = x.values[zip(at, perm).map { $0 * inStrides[$1] }.reduce(0, +)]
        }
        return out
    }

    /// Constant-mode Pad (pads as attribute or input, optional fill and axes); other modes are
    /// not needed by the tests.
    private static func pad(_ node: Node, _ inputs: [Array4?]) throws -> Array4 {
        let x = inputs[0]!, rank = x.shape.count
        guard (node.attribute("mode")?.stringValue ?? "constant") == "constant" else {
            throw Failure.unsupported("Pad mode \(node.attribute("mode")?.stringValue ?? "")")
        }
        let counts = node.attribute("pads")?.intsValue?.map { Int($0) } ?? inputs[1]!.values.map { Int($0) }
        var fill = 0.0
        if let value = node.attribute("value")?.floatValue { fill = Double(value) }
        if inputs.count > 2, let given = inputs[2]?.values.first { fill = given }
        let axes = (inputs.count > 3 ? inputs[3] : nil)?.values.map { Int($0) < 0 ? Int($0) + rank : Int($0) } ?? Array(0..<rank)
        var begin = [Int](repeating: 0, count: rank), end = begin
        for (position, axis) in axes.enumerated() {
            begin[axis] = counts[position]
            end[axis] = counts[position + axes.count]
        }
        let shape = (0..<rank).map { x.shape[$0] + begin[$0] + end[$0] }
        var out = Array4(shape: shape, values: Array(repeating: fill, count: shape.reduce(1, *)))
        let outStrides = strides(shape)
        for offset in x.values.indices {
            let at = coordinates(offset, x.shape)
            var target = 0
            for axis in 0..<rank { target += (at[axis] + begin[axis]) * outStrides[axis] }
            out.values[target] = x.values[offset]
        }
        return out
    }

    /// out = data; out[indices[j]] = updates[j] for every tuple j, in order.
    private static func scatterND(_ data: Array4, _ indices: Array4, _ updates: Array4) throws -> Array4 {
        var out = data
        let k = indices.shape.last!, dataStrides = strides(data.shape)
        let slice = data.shape.dropFirst(k).reduce(1, *)
        for tuple in 0..<(indices.values.count / k) {
            var base = 0
            for axis in 0..<k {
                var at = Int(indices.values[tuple * k + axis])
                if at < 0 { at += data.shape[axis] }
                guard at >= 0, at < data.shape[axis] else { throw Failure.unsupported("ScatterND index out of range") }
                base += at * dataStrides[axis]
            }
            for element in 0..<slice { out.values[base + element] = updates.values[tuple * slice + element] }
        }
        return out
    }

    /// Elementwise with numpy broadcasting (shapes right-aligned, size-1 axes stretched).
    private static func broadcast(_ op: String, _ a: Array4, _ b: Array4) throws -> Array4 {
        let rank = max(a.shape.count, b.shape.count)
        let sa = Array(repeating: 1, count: rank - a.shape.count) + a.shape
        let sb = Array(repeating: 1, count: rank - b.shape.count) + b.shape
        guard zip(sa, sb).allSatisfy({ $0 == $1 || $0 == 1 || $1 == 1 }) else {
            throw Failure.unsupported("operands of shapes \(a.shape) and \(b.shape) do not broadcast")
        }
        let shape = zip(sa, sb).map { max($0, $1) }
        var out = Array4(shape: shape, values: Array(repeating: 0, count: shape.reduce(1, *)))
        for index in out.values.indices {
            var rest = index, ia = 0, ib = 0, strideA = 1, strideB = 1
            for axis in stride(from: rank - 1, through: 0, by: -1) {
                let coordinate = rest % shape[axis]
                rest /= shape[axis]
                if sa[axis] != 1 { ia += coordinate * strideA }
                if sb[axis] != 1 { ib += coordinate * strideB }
                strideA *= sa[axis]
                strideB *= sb[axis]
            }
            let (l, r) = (a.values[ia], b.values[ib])
            switch op {
            case "Add": out.values[index] = l + r
            case "Sub": out.values[index] = l - r
            case "Mul": out.values[index] = l * r
            default: out.values[index] = l / r
            }
        }
        return out
    }

    /// Explicit pads [top, left, bottom, right] of a 2-D window op, auto_pad resolved.
    private static func pads(_ node: Node, input: [Int], kernel: [Int], strides: [Int], dilations: [Int]) -> [Int] {
        let explicit = node.attribute("pads")?.intsValue?.map { Int($0) } ?? [0, 0, 0, 0]
        let mode = node.attribute("auto_pad")?.stringValue ?? "NOTSET"
        switch mode {
        case "VALID": return [0, 0, 0, 0]
        case "SAME_UPPER", "SAME_LOWER":
            var result = [0, 0, 0, 0]
            for axis in 0..<2 {
                let size = input[axis + 2]
                let outSize = (size + strides[axis] - 1) / strides[axis]
                let total = max((outSize - 1) * strides[axis] + (kernel[axis] - 1) * dilations[axis] + 1 - size, 0)
                let extra = total % 2
                result[axis] = total / 2 + (mode == "SAME_LOWER" ? extra : 0)
                result[axis + 2] = total / 2 + (mode == "SAME_UPPER" ? extra : 0)
            }
            return result
        default: return explicit
        }
    }

    private static func averagePool(_ node: Node, _ x: Array4) -> Array4 {
        let kernel = node.attribute("kernel_shape")!.intsValue!.map { Int($0) }
        let strides = node.attribute("strides")?.intsValue?.map { Int($0) } ?? [1, 1]
        let dilations = node.attribute("dilations")?.intsValue?.map { Int($0) } ?? [1, 1]
        let p = pads(node, input: x.shape, kernel: kernel, strides: strides, dilations: dilations)
        let includePad = node.attribute("count_include_pad")?.intValue == 1
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let oh = (h + p[0] + p[2] - dilations[0] * (kernel[0] - 1) - 1) / strides[0] + 1
        let ow = (w + p[1] + p[3] - dilations[1] * (kernel[1] - 1) - 1) / strides[1] + 1
        var out = Array4(shape: [n, c, oh, ow], values: Array(repeating: 0, count: n * c * oh * ow))
        for batch in 0..<n {
            for channel in 0..<c {
                for y in 0..<oh {
                    for xPos in 0..<ow {
                        var sum = 0.0, count = 0
                        for ky in 0..<kernel[0] {
                            for kx in 0..<kernel[1] {
                                let iy = y * strides[0] - p[0] + ky * dilations[0], ix = xPos * strides[1] - p[1] + kx * dilations[1]
                                guard iy >= 0, iy < h, ix >= 0, ix < w else { continue }
                                sum += x[batch, channel, iy, ix]
                                count += 1
                            }
                        }
                        let divisor = includePad ? kernel[0] * kernel[1] : count
                        out.values[((batch * c + channel) * oh + y) * ow + xPos] = sum / Double(divisor)
                    }
                }
            }
        }
        return out
    }

    private static func gemm(_ node: Node, _ a: Array4, _ b: Array4, _ c: Array4?) -> Array4 {
        let transA = node.attribute("transA")?.intValue == 1, transB = node.attribute("transB")?.intValue == 1
        let alpha = Double(node.attribute("alpha")?.floatValue ?? 1), beta = Double(node.attribute("beta")?.floatValue ?? 1)
        let (m, k) = transA ? (a.shape[1], a.shape[0]) : (a.shape[0], a.shape[1])
        let n = transB ? b.shape[0] : b.shape[1]
        var out = Array4(shape: [m, n], values: Array(repeating: 0, count: m * n))
        for i in 0..<m {
            for j in 0..<n {
                var sum = 0.0
                for l in 0..<k {
                    let av = transA ? a.values[l * m + i] : a.values[i * k + l]
                    let bv = transB ? b.values[j * k + l] : b.values[l * n + j]
                    sum += av * bv
                }
                var bias = 0.0
                if let c { bias = c.values.count == 1 ? c.values[0] : c.values.count == n ? c.values[j] : c.values[i * n + j] }
                out.values[i * n + j] = alpha * sum + beta * bias
            }
        }
        return out
    }

    private static func conv(_ node: Node, _ x: Array4, _ w: Array4, _ b: Array4?) throws -> Array4 {
        let ints = { (name: String, fallback: [Int]) in node.attribute(name)?.intsValue?.map { Int($0) } ?? fallback }
        let (kh, kw) = (w.shape[2], w.shape[3])
        let strides = ints("strides", [1, 1]), dilations = ints("dilations", [1, 1])
        let pads = Self.pads(node, input: x.shape, kernel: [kh, kw], strides: strides, dilations: dilations)
        let group = Int(node.attribute("group")?.intValue ?? 1)
        let (n, cin, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let cout = w.shape[0], perGroup = w.shape[1]
        let oh = (h + pads[0] + pads[2] - dilations[0] * (kh - 1) - 1) / strides[0] + 1
        let ow = (wd + pads[1] + pads[3] - dilations[1] * (kw - 1) - 1) / strides[1] + 1
        guard oh >= 1, ow >= 1 else { throw Failure.unsupported("Conv '\(node.name)' has no output positions") }
        var out = Array4(shape: [n, cout, oh, ow], values: Array(repeating: 0, count: n * cout * oh * ow))
        let outPerGroup = cout / group
        precondition(cin == perGroup * group)
        for batch in 0..<n {
            for o in 0..<cout {
                let g = o / outPerGroup
                for y in 0..<oh {
                    for xPos in 0..<ow {
                        var sum = b?.values[o] ?? 0
                        for i in 0..<perGroup {
                            for ky in 0..<kh {
                                for kx in 0..<kw {
                                    let iy = y * strides[0] - pads[0] + ky * dilations[0]
                                    let ix = xPos * strides[1] - pads[1] + kx * dilations[1]
                                    guard iy >= 0, iy < h, ix >= 0, ix < wd else { continue }
                                    sum += x[batch, g * perGroup + i, iy, ix] * w[o, i, ky, kx]
                                }
                            }
                        }
                        out.values[((batch * cout + o) * oh + y) * ow + xPos] = sum
                    }
                }
            }
        }
        return out
    }

    /// max |a − b| / max |a| over a graph's first output, before (a) and after (b) a rewrite;
    /// +infinity when the shapes differ or a non-finite value appears on one side only.
    static func relativeDifference(_ before: Graph, _ after: Graph, shape: [Int], seed: UInt64 = 7) throws -> Double {
        var random = SeededRandom(seed: seed)
        let input = Array4(shape: shape, values: (0..<shape.reduce(1, *)).map { _ in random.uniform(-2, 2) })
        let output = before.outputs[0].name
        guard let a = try run(before, input: input)[output], let b = try run(after, input: input)[output] else {
            throw Failure.unsupported("no output")
        }
        guard a.shape == b.shape else { return .infinity }
        return TestSupport.relativeDifference(b.values, a.values)
    }
}
