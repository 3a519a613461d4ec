import GhostIR
import TestSupport

/// A deliberately simple Float64 evaluator for the few ops the pass tests use (Conv, BN, Add,
/// Sub, Mul, Div, Relu, Identity): an oracle independent of GhostInterpreter, written for
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
            for index in out.values.indices {
                let c = (index / (x.shape[2] * x.shape[3])) % x.shape[1]
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
        case "Gemm", "MatMul":
            return try linear(node, inputs[0]!, inputs[1]!, inputs.count > 2 ? inputs[2] : nil)
        case "Add", "Sub", "Mul", "Div":
            return try broadcast(node.opType, inputs[0]!, inputs[1]!)
        default:
            throw Failure.unsupported(node.opType)
        }
    }

    /// Elementwise with one side either the same shape or broadcast along channels / scalar.
    private static func broadcast(_ op: String, _ a: Array4, _ b: Array4) throws -> Array4 {
        let big = a.values.count >= b.values.count ? a : b
        for side in [a, b] where side.values.count != 1 && side.shape != big.shape {
            // Only a single value or one value per channel broadcasts here.
            guard side.values.count == big.shape[1], side.values.count != big.values.count else {
                throw Failure.unsupported("operands of shapes \(a.shape) and \(b.shape) do not broadcast")
            }
        }
        var out = big
        let plane = big.shape.count == 4 ? big.shape[2] * big.shape[3] : 1
        for index in out.values.indices {
            func pick(_ x: Array4) -> Double {
                if x.values.count == big.values.count { return x.values[index] }
                if x.values.count == 1 { return x.values[0] }
                return x.values[(index / plane) % big.shape[1]]
            }
            let (l, r) = (pick(a), pick(b))
            switch op {
            case "Add": out.values[index] = l + r
            case "Sub": out.values[index] = l - r
            case "Mul": out.values[index] = l * r
            default: out.values[index] = l / r
            }
        }
        return out
    }

    private static func conv(_ node: Node, _ x: Array4, _ w: Array4, _ b: Array4?) throws -> Array4 {
        let ints = { (name: String, fallback: [Int]) in node.attribute(name)?.intsValue?.map { Int($0) } ?? fallback }
        let (kh, kw) = (w.shape[2], w.shape[3])
        let strides = ints("strides", [1, 1]), dilations = ints("dilations", [1, 1])
        var pads = ints("pads", [0, 0, 0, 0])
        let group = Int(node.attribute("group")?.intValue ?? 1)
        let (n, cin, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        // auto_pad, from the ONNX spec's formula: output = ceil(input / stride) for SAME, the
        // total padding split with the extra one at the end (UPPER) or the start (LOWER).
        switch node.attribute("auto_pad")?.stringValue ?? "NOTSET" {
        case "VALID":
            pads = [0, 0, 0, 0]
        case let mode where mode.hasPrefix("SAME"):
            for (axis, (size, k)) in [(h, kh), (wd, kw)].enumerated() {
                let outSize = (size + strides[axis] - 1) / strides[axis]
                let total = max(0, (outSize - 1) * strides[axis] + (k - 1) * dilations[axis] + 1 - size)
                let small = total / 2
                pads[axis] = mode == "SAME_UPPER" ? small : total - small
                pads[axis + 2] = total - pads[axis]
            }
        default:
            break
        }
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

    /// Gemm (alpha·A·op(B) + beta·C, C one value or one per column) or MatMul of rank-2 A, B.
    private static func linear(_ node: Node, _ a: Array4, _ b: Array4, _ c: Array4?) throws -> Array4 {
        let transA = node.attribute("transA")?.intValue == 1, transB = node.attribute("transB")?.intValue == 1
        let alpha = Double(node.attribute("alpha")?.floatValue ?? 1), beta = Double(node.attribute("beta")?.floatValue ?? 1)
        guard a.shape.count == 2, b.shape.count == 2 else { throw Failure.unsupported("linear of rank \(a.shape.count)") }
        let (n, k) = transA ? (a.shape[1], a.shape[0]) : (a.shape[0], a.shape[1])
        let (kb, f) = transB ? (b.shape[1], b.shape[0]) : (b.shape[0], b.shape[1])
        guard k == kb else { throw Failure.unsupported("inner sizes \(k) and \(kb)") }
        var out = Array4(shape: [n, f], values: Array(repeating: 0, count: n * f))
        for row in 0..<n {
            for column in 0..<f {
                var sum = 0.0
                for inner in 0..<k {
                    let left = transA ? a.values[inner * n + row] : a.values[row * k + inner]
                    let right = transB ? b.values[column * k + inner] : b.values[inner * f + column]
                    sum += left * right
                }
                let bias = c.map { $0.values.count == 1 ? $0.values[0] : $0.values[column] } ?? 0
                out.values[row * f + column] = alpha * sum + beta * bias
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
