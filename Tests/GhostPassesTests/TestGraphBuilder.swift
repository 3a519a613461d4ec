import GhostIR
import TestSupport

/// Builds small NCHW graphs for pass tests.
struct TestGraphBuilder {
    var graph: Graph
    var random: SeededRandom
    /// float64 weights let numeric tests compare at 1e-12 (a rewrite rounds to the weight's type).
    let elementType: ElementType

    init(input: String = "x", shape: [Int], seed: UInt64 = 1, elementType: ElementType = .float64) {
        graph = Graph(name: "test", inputs: [Value(name: input, elementType: elementType, shape: shape.map(ShapeDimension.fixed))])
        random = SeededRandom(seed: seed)
        self.elementType = elementType
    }

    mutating func constant(_ name: String, _ values: [Float], shape: [Int]) -> String {
        graph.initializers[name] = elementType == .float64
            ? try! Tensor(float64: values.map(Double.init), shape: shape)
            : try! Tensor(float32: values, shape: shape)
        return name
    }

    @discardableResult
    mutating func conv(_ name: String, _ input: String, out: Int, in inPerGroup: Int, kernel: Int = 3,
                       pads: [Int]? = nil, strides: Int = 1, dilation: Int = 1, group: Int = 1,
                       bias: Bool = false, extra: [Attribute] = []) -> String {
        let weight = constant("\(name).W", random.floats(out * inPerGroup * kernel * kernel), shape: [out, inPerGroup, kernel, kernel])
        var inputs = [input, weight]
        if bias { inputs.append(constant("\(name).B", random.floats(out), shape: [out])) }
        let pad = pads ?? Array(repeating: kernel / 2 * dilation, count: 4)
        var attributes = [
            Attribute(name: "kernel_shape", value: .ints([Int64(kernel), Int64(kernel)])),
            Attribute(name: "pads", value: .ints(pad.map(Int64.init))),
            Attribute(name: "strides", value: .ints([Int64(strides), Int64(strides)])),
            Attribute(name: "dilations", value: .ints([Int64(dilation), Int64(dilation)])),
            Attribute(name: "group", value: .int(Int64(group))),
        ]
        attributes.append(contentsOf: extra)
        graph.nodes.append(Node(name: name, opType: "Conv", inputs: inputs, outputs: ["\(name).out"], attributes: attributes))
        return "\(name).out"
    }

    /// A BatchNormalization with randomized statistics (none of them trivial).
    @discardableResult
    mutating func batchNorm(_ name: String, _ input: String, channels: Int, epsilon: Float = 1e-5,
                            attributes: [Attribute] = []) -> String {
        let gamma = constant("\(name).gamma", random.floats(channels, 0.6, 1.4), shape: [channels])
        let beta = constant("\(name).beta", random.floats(channels, -0.2, 0.2), shape: [channels])
        let mean = constant("\(name).mean", random.floats(channels, -0.3, 0.3), shape: [channels])
        let variance = constant("\(name).var", random.floats(channels, 0.5, 2.0), shape: [channels])
        graph.nodes.append(Node(name: name, opType: "BatchNormalization", inputs: [input, gamma, beta, mean, variance],
                                outputs: ["\(name).out"], attributes: [Attribute(name: "epsilon", value: .float(epsilon))] + attributes))
        return "\(name).out"
    }

    @discardableResult
    mutating func op(_ type: String, _ name: String, _ inputs: [String], attributes: [Attribute] = []) -> String {
        graph.nodes.append(Node(name: name, opType: type, inputs: inputs, outputs: ["\(name).out"], attributes: attributes))
        return "\(name).out"
    }

    mutating func output(_ value: String) {
        graph.outputs.append(Value(name: value, elementType: elementType))
    }

    func count(_ opType: String, in graph: Graph) -> Int {
        graph.nodes.filter { $0.opType == opType }.count
    }
}

extension Graph {
    func count(_ opType: String) -> Int { nodes.filter { $0.opType == opType }.count }
}
