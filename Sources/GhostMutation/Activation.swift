import GhostIR

/// The pointwise activations a mutant swaps, each with its ONNX spelling:
///
/// - relu: max(x, 0); relu6: min(max(x, 0), 6) (`Clip` 0, 6); leakyRelu: x ≥ 0 ? x : α·x;
/// - sigmoid: 1 / (1 + e^−x); hardSigmoid: max(0, min(1, α·x + β));
/// - hardSwish: x · max(0, min(1, x/6 + 1/2)); swish (SiLU): x · sigmoid(x), as `Sigmoid` + `Mul`.
public enum Activation: Codable, Equatable, Hashable, Sendable, CustomStringConvertible {
    case relu
    case relu6
    case leakyRelu(alpha: Float)
    case sigmoid
    case hardSigmoid(alpha: Float, beta: Float)
    case hardSwish
    case swish

    public var description: String {
        switch self {
        case .relu: "Relu"
        case .relu6: "Relu6 (Clip 0, 6)"
        case .leakyRelu(let alpha): "LeakyRelu(α \(alpha))"
        case .sigmoid: "Sigmoid"
        case .hardSigmoid(let alpha, let beta): "HardSigmoid(α \(alpha), β \(beta))"
        case .hardSwish: "HardSwish"
        case .swish: "Swish (x·Sigmoid(x))"
        }
    }

    /// The activation a single node computes, if it is one of these (its only data input is input 0).
    public static func of(_ node: Node, in graph: Graph) -> Activation? {
        guard node.domain.isEmpty, node.outputs.count == 1, !node.outputs[0].isEmpty, node.inputs.first.map({ !$0.isEmpty }) == true else {
            return nil
        }
        switch node.opType {
        case "Relu": return .relu
        case "Sigmoid": return .sigmoid
        case "HardSwish": return .hardSwish
        case "LeakyRelu": return .leakyRelu(alpha: node.attribute("alpha")?.floatValue ?? 0.01)
        case "HardSigmoid":
            return .hardSigmoid(alpha: node.attribute("alpha")?.floatValue ?? 0.2, beta: node.attribute("beta")?.floatValue ?? 0.5)
        case "Clip":
            let bounds = clipBounds(node, in: graph)
            return bounds.min == 0 && bounds.max == 6 ? .relu6 : nil
        default: return nil
        }
    }

    /// Clip's bounds: attributes before opset 11, optional scalar inputs from 11 on.
    static func clipBounds(_ node: Node, in graph: Graph) -> (min: Double?, max: Double?) {
        if let low = node.attribute("min")?.floatValue, let high = node.attribute("max")?.floatValue {
            return (Double(low), Double(high))
        }
        func scalar(_ index: Int) -> Double? {
            guard index < node.inputs.count, let tensor = graph.initializers[node.inputs[index]] else { return nil }
            let values = tensor.doubleValues()
            return values.count == 1 ? values[0] : nil
        }
        return (scalar(1), scalar(2))
    }

    /// What a fusion bug would plausibly put in its place, most plausible first.
    public var confusions: [Activation] {
        switch self {
        case .relu: [.relu6, .leakyRelu(alpha: 0.01)]
        case .relu6: [.relu]
        case .leakyRelu: [.relu]
        case .sigmoid: [.hardSigmoid(alpha: 0.2, beta: 0.5)]
        case .hardSigmoid: [.sigmoid]
        case .hardSwish: [.swish]
        case .swish: [.hardSwish]
        }
    }

    /// Why replacing `self` by `other` changes nothing on inputs seen within `range` (nil when it
    /// changes something there): Relu and Relu6 agree below 6, Relu and LeakyRelu on x ≥ 0, and
    /// the smooth/hard pairs only at x = 0.
    public func agreement(with other: Activation, on range: ValueRange) -> String? {
        if self == other { return "the same activation" }
        switch (self, other) {
        case (.relu, .relu6), (.relu6, .relu):
            return range.max <= 6 ? "no input of the activation exceeds 6 on the samples (max \(ValueRange.text(range.max)))" : nil
        case (.relu, .leakyRelu), (.leakyRelu, .relu):
            return range.min >= 0 ? "no input of the activation is negative on the samples (min \(ValueRange.text(range.min)))" : nil
        default:
            return range.min == 0 && range.max == 0 ? "every input of the activation is 0 on the samples" : nil
        }
    }

    /// The nodes that compute this activation from `input` into `output`; the node that writes
    /// `output` is named `name`, so a divergence there names the mutated node.
    func nodes(name: String, input: String, output: String, graph: inout Graph, elementType: ElementType) throws(MutationError) -> [Node] {
        switch self {
        case .relu: return [Node(name: name, opType: "Relu", inputs: [input], outputs: [output])]
        case .sigmoid: return [Node(name: name, opType: "Sigmoid", inputs: [input], outputs: [output])]
        case .hardSwish: return [Node(name: name, opType: "HardSwish", inputs: [input], outputs: [output])]
        case .leakyRelu(let alpha):
            return [Node(name: name, opType: "LeakyRelu", inputs: [input], outputs: [output],
                         attributes: [Attribute(name: "alpha", value: .float(alpha))])]
        case .hardSigmoid(let alpha, let beta):
            return [Node(name: name, opType: "HardSigmoid", inputs: [input], outputs: [output],
                         attributes: [Attribute(name: "alpha", value: .float(alpha)), Attribute(name: "beta", value: .float(beta))])]
        case .relu6:
            if (graph.onnxOpsetVersion ?? 17) < 11 {
                return [Node(name: name, opType: "Clip", inputs: [input], outputs: [output],
                             attributes: [Attribute(name: "min", value: .float(0)), Attribute(name: "max", value: .float(6))])]
            }
            let low = GraphEdit.freshName(name + ".mutant.min", in: graph)
            graph.initializers[low] = try GraphEdit.scalar(0, elementType, node: name)
            let high = GraphEdit.freshName(name + ".mutant.max", in: graph)
            graph.initializers[high] = try GraphEdit.scalar(6, elementType, node: name)
            return [Node(name: name, opType: "Clip", inputs: [input, low, high], outputs: [output])]
        case .swish:
            let gate = GraphEdit.freshName(output + ".mutant.sigmoid", in: graph)
            return [Node(name: GraphEdit.freshName(name + ".mutant.sigmoid", in: graph), opType: "Sigmoid", inputs: [input], outputs: [gate]),
                    Node(name: name, opType: "Mul", inputs: [input, gate], outputs: [output])]
        }
    }
}

/// The smallest and largest finite value a tensor took over the samples.
public struct ValueRange: Codable, Equatable, Hashable, Sendable {
    public var min: Double
    public var max: Double

    public init(min: Double, max: Double) {
        self.min = min
        self.max = max
    }

    /// The range of `values`' finite elements merged into `self` (nil: nothing seen yet).
    public static func merging(_ range: ValueRange?, _ values: [Double]) -> ValueRange? {
        var low = range?.min ?? .infinity, high = range?.max ?? -.infinity
        for value in values where value.isFinite {
            if value < low { low = value }
            if value > high { high = value }
        }
        return low <= high ? ValueRange(min: low, max: high) : range
    }

    /// The ranges of each index of axis 1 of a tensor of `shape` (N × C × …), merged into `ranges`.
    public static func mergingChannels(_ ranges: [ValueRange]?, _ values: [Double], shape: [Int]) -> [ValueRange]? {
        guard shape.count >= 2, shape[1] > 0 else { return ranges }
        let channels = shape[1]
        let plane = values.count / Swift.max(shape[0] * channels, 1)
        var low = ranges?.map(\.min) ?? [Double](repeating: .infinity, count: channels)
        var high = ranges?.map(\.max) ?? [Double](repeating: -.infinity, count: channels)
        guard low.count == channels, plane > 0 else { return ranges }
        for (index, value) in values.enumerated() where value.isFinite {
            let channel = (index / plane) % channels
            if value < low[channel] { low[channel] = value }
            if value > high[channel] { high[channel] = value }
        }
        return (0..<channels).map { low[$0] <= high[$0] ? ValueRange(min: low[$0], max: high[$0]) : ValueRange(min: -.infinity, max: .infinity) }
    }

    static func text(_ value: Double) -> String { "\((value * 1000).rounded() / 1000)" }
}
