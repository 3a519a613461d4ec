import GhostIR

/// One dimension as far as the passes know it: a size, or a symbol that stands for the same
/// unknown size wherever it appears (a graph input's `N`, or a fresh symbol for a blank dimension,
/// equal only to itself).
enum Dim: Hashable, Sendable {
    case fixed(Int)
    case symbol(String)

    var fixedValue: Int? {
        if case .fixed(let size) = self { return size }
        return nil
    }
}

/// Shapes and element types of a graph's values, inferred forward from the graph inputs, the
/// initializers and Constant nodes through the operators real exports put in front of `Shape`
/// (convolutions, pooling, normalization, activations, broadcasting arithmetic, Concat, Slice,
/// Reshape, Transpose, reductions…). A value whose shape cannot be derived falls back to its
/// value_info declaration, and otherwise has none: the rules that need it skip.
///
/// Kept separate from the interpreter's shape logic on purpose (the interpreter is the referee).
struct StaticShapes {
    private(set) var shapes: [String: [Dim]] = [:]
    private(set) var types: [String: ElementType] = [:]
    private var freshSymbols = 0

    init(_ index: GraphIndex) {
        let graph = index.graph
        for value in graph.inputs { declare(value) }
        for entry in graph.initializers {
            shapes[entry.name] = entry.tensor.shape.map(Dim.fixed)
            types[entry.name] = entry.tensor.elementType
        }
        var declared: [String: Value] = [:]
        for value in graph.valueInfo + graph.outputs where declared[value.name] == nil { declared[value.name] = value }
        for node in graph.nodes {
            infer(node, index: index)
            for output in node.outputs where !output.isEmpty && shapes[output] == nil {
                if let value = declared[output] { declare(value) }
            }
        }
    }

    func shape(of value: String) -> [Dim]? { shapes[value] }

    /// The shape when every dimension is a known size.
    func fixedShape(of value: String) -> [Int]? {
        guard let dims = shapes[value] else { return nil }
        var sizes: [Int] = []
        for dim in dims {
            guard let size = dim.fixedValue else { return nil }
            sizes.append(size)
        }
        return sizes
    }

    /// A constant, or a shape-derived vector whose entries are all known sizes.
    private func staticConstant(_ name: String, _ index: GraphIndex) -> Tensor? {
        ShapeVectors.constant(name, index: index, shape: { shapes[$0] })
    }

    private mutating func fresh() -> Dim {
        freshSymbols += 1
        return .symbol("?\(freshSymbols)")
    }

    private mutating func declare(_ value: Value) {
        if let type = value.elementType, types[value.name] == nil { types[value.name] = type }
        guard shapes[value.name] == nil, let shape = value.shape else { return }
        shapes[value.name] = shape.map { dimension in
            switch dimension {
            case .fixed(let size): .fixed(size)
            case .symbolic(let name): .symbol(name)
            case .unknown: fresh()
            }
        }
    }

    private mutating func set(_ value: String, _ shape: [Dim]?, _ type: ElementType?) {
        guard !value.isEmpty else { return }
        if let shape { shapes[value] = shape }
        if let type { types[value] = type }
    }

    private mutating func infer(_ node: Node, index: GraphIndex) {
        guard node.domain.isEmpty, let output = node.outputs.first else { return }
        let input = node.inputs.first.flatMap { shapes[$0] }
        let inputType = node.inputs.first.flatMap { types[$0] }
        switch node.opType {
        case "Constant":
            if let tensor = index.constant(output) { set(output, tensor.shape.map(Dim.fixed), tensor.elementType) }
        case "Relu", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh", "LeakyRelu", "Clip", "Identity", "Dropout", "Neg",
             "Abs", "Exp", "Log", "Sqrt", "Erf", "Softmax", "LogSoftmax", "Elu", "Selu", "Softplus", "Gelu", "Mish",
             "BatchNormalization", "InstanceNormalization", "LayerNormalization", "LRN", "Floor", "Ceil", "Round",
             "Reciprocal", "Sign", "Sin", "Cos", "Celu", "ThresholdedRelu", "Softsign":
            set(output, input, inputType)
        case "Not":
            set(output, input, .bool)
        case "Cast":
            set(output, input, node.attribute("to")?.intValue.flatMap { ElementType(rawValue: Int32(truncatingIfNeeded: $0)) })
        case "Add", "Sub", "Mul", "Div", "Pow", "PRelu", "Max", "Min", "Sum", "Mean", "Mod", "BitShift":
            set(output, broadcast(node.inputs), inputType)
        case "Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "And", "Or", "Xor":
            set(output, broadcast(node.inputs), .bool)
        case "Where":
            set(output, broadcast(node.inputs), node.inputs.dropFirst().first.flatMap { types[$0] })
        case "Conv", "MaxPool", "AveragePool", "LpPool":
            set(output, convolved(node, input: input, index: index), inputType)
        case "GlobalAveragePool", "GlobalMaxPool", "GlobalLpPool":
            set(output, input.map { Array($0.prefix(2)) + Array(repeating: Dim.fixed(1), count: max($0.count - 2, 0)) }, inputType)
        case "Concat":
            set(output, concatenated(node), inputType)
        case "Shape":
            set(output, input.map { [.fixed(ShapeOps.shapeRange(rank: $0.count, node: node).count)] }, .int64)
        case "Size":
            set(output, [], .int64)
        case "Transpose":
            guard let input else { return }
            let perm = node.attribute("perm")?.intsValue.map { $0.map(Int.init) } ?? Array((0..<input.count).reversed())
            guard perm.sorted() == Array(0..<input.count) else { return }
            set(output, perm.map { input[$0] }, inputType)
        case "Flatten":
            guard let input, let axis = ShapeOps.axis(node.attribute("axis")?.intValue ?? 1, rank: input.count, inclusive: true),
                  let outer = product(input[..<axis]), let inner = product(input[axis...]) else { return }
            set(output, [outer, inner], inputType)
        case "Gemm":
            guard let a = input, let b = node.inputs.dropFirst().first.flatMap({ shapes[$0] }), a.count == 2, b.count == 2 else { return }
            let transA = node.attribute("transA")?.intValue == 1, transB = node.attribute("transB")?.intValue == 1
            set(output, [transA ? a[1] : a[0], transB ? b[0] : b[1]], inputType)
        case "Reshape":
            guard let input, node.inputs.count > 1,
                  let target = ShapeVectors.entries(of: node.inputs[1], index: index, shape: { shapes[$0] }) else { return }
            let allowZero = node.attribute("allowzero")?.intValue == 1
            set(output, reshaped(input, target: target, allowZero: allowZero), inputType)
        case "Unsqueeze", "Squeeze":
            guard let input, let axes = ShapeOps.axesOperand(node, constant: { staticConstant($0, index) }) else { return }
            let sizes = input.map(\.fixedValue)
            if node.opType == "Unsqueeze" {
                guard let axes else { return }
                set(output, ShapeOps.unsqueezed(input, axes: axes), inputType)
            } else if let axes {
                set(output, ShapeOps.squeezed(input, axes: axes), inputType)
            } else if sizes.allSatisfy({ $0 != nil }) {
                set(output, input.filter { $0 != .fixed(1) }, inputType)
            }
        case "Slice":
            guard let input, let slice = ShapeOps.sliceParameters(node, rank: input.count, constant: { staticConstant($0, index) }) else { return }
            var result = input
            for entry in slice {
                guard let size = input[entry.axis].fixedValue else {
                    // A full range keeps a symbolic dimension as it is.
                    if entry.keepsEverything { continue } else { return }
                }
                result[entry.axis] = .fixed(ShapeOps.sliceLength(size: size, start: entry.start, end: entry.end, step: entry.step))
            }
            set(output, result, inputType)
        case "ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL2", "ReduceL1", "ReduceLogSumExp", "ReduceSumSquare":
            guard let input else { return }
            let keep = (node.attribute("keepdims")?.intValue ?? 1) != 0
            var axes: [Int64]?
            if let attribute = node.attribute("axes")?.intsValue { axes = attribute }
            else if node.inputs.count > 1, !node.inputs[1].isEmpty {
                guard let tensor = staticConstant(node.inputs[1], index) else { return }
                axes = tensor.int64Values()
            }
            var reduced = Set<Int>()
            if let axes, !axes.isEmpty {
                for axis in axes {
                    guard let resolved = ShapeOps.axis(axis, rank: input.count) else { return }
                    reduced.insert(resolved)
                }
            } else if node.attribute("noop_with_empty_axes")?.intValue == 1 {
                set(output, input, inputType)
                return
            } else {
                reduced = Set(input.indices)
            }
            var result: [Dim] = []
            for (axis, dim) in input.enumerated() {
                if reduced.contains(axis) { if keep { result.append(.fixed(1)) } } else { result.append(dim) }
            }
            set(output, result, inputType)
        case "Split":
            guard let input, let axis = ShapeOps.axis(node.attribute("axis")?.intValue ?? 0, rank: input.count),
                  let size = input[axis].fixedValue else { return }
            var parts: [Int]
            if let split = node.attribute("split")?.intsValue { parts = split.map(Int.init) }
            else if node.inputs.count > 1, !node.inputs[1].isEmpty {
                guard let tensor = staticConstant(node.inputs[1], index) else { return }
                parts = tensor.int64Values().map(Int.init)
            } else {
                let count = node.outputs.count
                guard count > 0 else { return }
                let chunk = (size + count - 1) / count
                parts = (0..<count).map { max(0, min(chunk, size - $0 * chunk)) }
            }
            guard parts.count == node.outputs.count, parts.reduce(0, +) == size else { return }
            for (output, part) in zip(node.outputs, parts) {
                var shape = input
                shape[axis] = .fixed(part)
                set(output, shape, inputType)
            }
        case "Resize", "Upsample":
            set(output, resized(node, input: input, index: index), inputType)
        case "MatMul":
            guard let a = input, let b = node.inputs.dropFirst().first.flatMap({ shapes[$0] }), a.count >= 2, b.count >= 2,
                  let batch = broadcastShapes(Array(a.dropLast(2)), Array(b.dropLast(2))) else { return }
            set(output, batch + [a[a.count - 2], b[b.count - 1]], inputType)
        case "Expand":
            guard let input, node.inputs.count > 1, let target = staticConstant(node.inputs[1], index)?.int64Values() else { return }
            set(output, broadcastShapes(input, target.map { Dim.fixed(Int($0)) }), inputType)
        // dbb-pad: a Pad's constant counts, and a scatter keeps its data's shape
        case "Pad":
            guard let input, let sizes = Optional(input.compactMap(\.fixedValue)), sizes.count == input.count,
                  let pad = try? PadParameters.read(node, rank: input.count, constant: { staticConstant($0, index) }).get(),
                  let padded = pad.padded(sizes) else { return }
            set(output, padded.map(Dim.fixed), inputType)
        case "ScatterND", "ScatterElements":
            set(output, input, inputType)
        // end dbb-pad
        default:
            return
        }
    }

    /// The product of `dims`, or the one dimension itself; nil when a symbol is multiplied (its
    /// product is no symbol we track).
    private func product(_ dims: ArraySlice<Dim>) -> Dim? {
        var total = 1
        for dim in dims {
            guard let size = dim.fixedValue else { return dims.count == 1 ? dim : nil }
            let (next, overflow) = total.multipliedReportingOverflow(by: size)
            guard !overflow else { return nil }
            total = next
        }
        return .fixed(total)
    }

    private func broadcast(_ inputs: [String]) -> [Dim]? {
        var result: [Dim] = []
        for name in inputs where !name.isEmpty {
            guard let shape = shapes[name], let combined = broadcastShapes(result, shape) else { return nil }
            result = combined
        }
        return result
    }

    /// numpy broadcasting; two different symbols (or a symbol against a size other than 1) are
    /// not known to agree, so the result is unknown.
    private func broadcastShapes(_ a: [Dim], _ b: [Dim]) -> [Dim]? {
        let rank = max(a.count, b.count)
        var result: [Dim] = []
        for axis in 0..<rank {
            let x = axis - (rank - a.count) >= 0 ? a[axis - (rank - a.count)] : .fixed(1)
            let y = axis - (rank - b.count) >= 0 ? b[axis - (rank - b.count)] : .fixed(1)
            if x == y || y == .fixed(1) { result.append(x) } else if x == .fixed(1) { result.append(y) } else { return nil }
        }
        return result
    }

    private func concatenated(_ node: Node) -> [Dim]? {
        let parts = node.inputs.filter { !$0.isEmpty }.compactMap { shapes[$0] }
        guard let first = parts.first, parts.count == node.inputs.filter({ !$0.isEmpty }).count,
              let axis = ShapeOps.axis(node.attribute("axis")?.intValue ?? 0, rank: first.count) else { return nil }
        var total = 0
        for part in parts {
            guard part.count == first.count, let size = part[axis].fixedValue else { return nil }
            for other in part.indices where other != axis && part[other] != first[other] { return nil }
            total += size
        }
        var result = first
        result[axis] = .fixed(total)
        return result
    }

    /// Reshape's output: 0 copies the input dimension (unless `allowzero`), one −1 takes the rest
    /// — resolvable when the symbols on both sides are the same multiset, so they cancel.
    private func reshaped(_ input: [Dim], target: [Dim], allowZero: Bool) -> [Dim]? {
        var result: [Dim] = []
        var inferred: Int?
        for (position, entry) in target.enumerated() {
            switch entry {
            case .fixed(0) where !allowZero:
                guard position < input.count else { return nil }
                result.append(input[position])
            case .fixed(-1):
                guard inferred == nil else { return nil }
                inferred = position
                result.append(.fixed(1))
            case .fixed(let size):
                guard size >= 0 else { return nil }
                result.append(entry)
            case .symbol:
                result.append(entry)
            }
        }
        guard let inferred else { return result }
        func split(_ dims: [Dim]) -> (product: Int, symbols: [String])? {
            var product = 1
            var symbols: [String] = []
            for dim in dims {
                switch dim {
                case .fixed(let size):
                    let (next, overflow) = product.multipliedReportingOverflow(by: size)
                    guard !overflow else { return nil }
                    product = next
                case .symbol(let name):
                    symbols.append(name)
                }
            }
            return (product, symbols.sorted())
        }
        guard let whole = split(input), let known = split(result), known.product > 0 else { return nil }
        if whole.symbols == known.symbols, whole.product % known.product == 0 {
            result[inferred] = .fixed(whole.product / known.product)
            return result
        }
        // The −1 takes the one symbol the target lacks: exactly it when the known sizes agree.
        var remaining = whole.symbols
        for symbol in known.symbols {
            guard let position = remaining.firstIndex(of: symbol) else { return nil }
            remaining.remove(at: position)
        }
        guard remaining.count == 1, whole.product == known.product else { return nil }
        result[inferred] = .symbol(remaining[0])
        return result
    }

    /// Resize/Upsample: ⌊size·scale⌋ per axis from constant scales, or the constant sizes (all
    /// axes; the `axes` attribute and keep_aspect_ratio_policy are not followed).
    private func resized(_ node: Node, input: [Dim]?, index: GraphIndex) -> [Dim]? {
        guard let input, node.attribute("axes") == nil else { return nil }
        // Upsample-9 and Resize-10 take (X, scales); Resize-11+ (X, roi, scales, sizes).
        let position = node.opType == "Upsample" || node.inputs.count == 2 ? 1 : 2
        let scalesName = node.inputs.count > position ? node.inputs[position] : ""
        if node.opType == "Resize", node.inputs.count > 3, !node.inputs[3].isEmpty {
            guard let sizes = index.constant(node.inputs[3]), sizes.elementType == .int64, sizes.elementCount == input.count else { return nil }
            return sizes.int64Values().map { Dim.fixed(Int($0)) }
        }
        var scales: [Double]
        if !scalesName.isEmpty, let tensor = index.constant(scalesName), tensor.elementType.isFloatingPoint {
            scales = tensor.doubleValues()
        } else if let attribute = node.attribute("scales")?.floatsValue {
            scales = attribute.map(Double.init)
        } else {
            return nil
        }
        guard scales.count == input.count else { return nil }
        var result: [Dim] = []
        for (dim, scale) in zip(input, scales) {
            if scale == 1 { result.append(dim); continue }
            guard let size = dim.fixedValue, scale.isFinite, scale > 0 else { return nil }
            // ONNX rounds the product of a float32 scale in float32 arithmetic: ⌊size·scale⌋.
            result.append(.fixed(Int((Double(Float(size) * Float(scale))).rounded(.down))))
        }
        return result
    }

    /// Conv and pooling output sizes: ⌊(in + pads − dilation·(k − 1) − 1) / stride⌋ + 1 (⌈⌉ with
    /// ceil_mode), for explicit pads or auto_pad NOTSET/VALID/SAME_*.
    private func convolved(_ node: Node, input: [Dim]?, index: GraphIndex) -> [Dim]? {
        guard let input, input.count >= 3 else { return nil }
        let spatial = input.count - 2
        var kernel: [Int]
        var channels: Dim = input[1]
        if node.opType == "Conv" {
            guard let weight = shapes[node.inputs.count > 1 ? node.inputs[1] : ""], weight.count == input.count else { return nil }
            let sizes = weight.compactMap(\.fixedValue)
            guard sizes.count == weight.count else { return nil }
            kernel = Array(sizes.dropFirst(2))
            channels = .fixed(sizes[0])
        } else {
            guard let shape = node.attribute("kernel_shape")?.intsValue else { return nil }
            kernel = shape.map(Int.init)
        }
        guard kernel.count == spatial else { return nil }
        let strides = node.attribute("strides")?.intsValue.map { $0.map(Int.init) } ?? Array(repeating: 1, count: spatial)
        let dilations = node.attribute("dilations")?.intsValue.map { $0.map(Int.init) } ?? Array(repeating: 1, count: spatial)
        let pads = node.attribute("pads")?.intsValue.map { $0.map(Int.init) } ?? Array(repeating: 0, count: 2 * spatial)
        let autoPad = node.attribute("auto_pad")?.stringValue ?? "NOTSET"
        let ceilMode = node.attribute("ceil_mode")?.intValue == 1
        guard strides.count == spatial, dilations.count == spatial, pads.count == 2 * spatial,
              strides.allSatisfy({ $0 > 0 }), dilations.allSatisfy({ $0 > 0 }) else { return nil }
        var result = [input[0], channels]
        for axis in 0..<spatial {
            guard let size = input[axis + 2].fixedValue else { return nil }
            let extent = dilations[axis] * (kernel[axis] - 1) + 1
            switch autoPad {
            case "SAME_UPPER", "SAME_LOWER":
                result.append(.fixed((size + strides[axis] - 1) / strides[axis]))
            case "NOTSET", "VALID":
                let padded = size + (autoPad == "VALID" ? 0 : pads[axis] + pads[axis + spatial]) - extent
                guard padded >= 0 else { return nil }
                var out = (ceilMode ? (padded + strides[axis] - 1) / strides[axis] : padded / strides[axis]) + 1
                // ceil_mode: a last window starting inside the right padding is dropped.
                if ceilMode, (out - 1) * strides[axis] >= size + pads[axis] { out -= 1 }
                result.append(.fixed(out))
            default:
                return nil
            }
        }
        return result
    }
}

/// `StaticShapes` of an index, inferred on first use: a pass whose candidates never ask (a
/// Concat of one input, a Transpose with its perm) does not pay for inference over the whole
/// graph. Inference reads only the index, so when it runs does not change what it finds.
final class LazyStaticShapes {
    private let index: GraphIndex
    private var inferred: StaticShapes?

    init(_ index: GraphIndex) {
        self.index = index
    }

    var shapes: StaticShapes {
        if let inferred { return inferred }
        let shapes = StaticShapes(index)
        inferred = shapes
        return shapes
    }

    func shape(of value: String) -> [Dim]? { shapes.shape(of: value) }

    var types: [String: ElementType] { shapes.types }
}
