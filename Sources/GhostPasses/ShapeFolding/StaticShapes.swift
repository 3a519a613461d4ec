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
        // A Pad's constant counts, and a scatter keeps its data's shape
        case "Pad":
            guard let input, let sizes = Optional(input.compactMap(\.fixedValue)), sizes.count == input.count,
                  let pad = try? PadParameters.read(node, rank: input.count, constant: { staticConstant($0, index) }).get(),
                  let padded = pad.padded(sizes) else { return }
            set(output, padded.map(Dim.fixed), inputType)
        case "ScatterND", "ScatterElements":
            set(output, input, inputType)
        default:
            return
        }
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
