import GhostIR

/// A Conv's weight and bias in Float64 while a rewrite combines them, rounded once at the end
/// to the original weight's element type.
struct ConvWeights {
    /// [O, I/g, k…] in C order.
    var kernel: [Double]
    var bias: [Double]
    var shape: [Int]
    let elementType: ElementType

    var outputChannels: Int { shape[0] }
    /// Elements per output channel (I/g · k…).
    var perChannel: Int { shape.dropFirst().reduce(1, *) }

    /// The weight and bias of `node` (a Conv); a missing bias is zeros.
    static func read(_ node: Node, index: GraphIndex) -> Result<ConvWeights, Skip> {
        guard node.inputs.count >= 2, let weight = index.constant(node.inputs[1]) else {
            return .failure(Skip("Conv weight '\(node.inputs.count >= 2 ? node.inputs[1] : "")' is not a constant"))
        }
        guard weight.elementType == .float32 || weight.elementType == .float64 else {
            return .failure(Skip("Conv weight is \(weight.elementType), only float and double are folded"))
        }
        guard weight.rank >= 3, weight.shape[0] > 0 else {
            return .failure(Skip("Conv weight has shape \(weight.shape)"))
        }
        var bias = [Double](repeating: 0, count: weight.shape[0])
        if node.inputs.count >= 3, !node.inputs[2].isEmpty {
            guard let tensor = index.constant(node.inputs[2]) else {
                return .failure(Skip("Conv bias '\(node.inputs[2])' is not a constant"))
            }
            guard tensor.elementCount == weight.shape[0] else {
                return .failure(Skip("Conv bias has \(tensor.elementCount) values for \(weight.shape[0]) output channels"))
            }
            bias = tensor.doubleValues()
        }
        return .success(ConvWeights(kernel: weight.doubleValues(), bias: bias, shape: weight.shape, elementType: weight.elementType))
    }

    /// Multiplies output channel o by factor[o] (kernel and bias).
    mutating func scaleOutputChannels(by factor: [Double]) {
        let stride = perChannel
        for channel in 0..<outputChannels {
            for offset in 0..<stride { kernel[channel * stride + offset] *= factor[channel] }
            bias[channel] *= factor[channel]
        }
    }

    /// Adds shift[o] to the bias of output channel o.
    mutating func shiftOutputChannels(by shift: [Double]) {
        for channel in 0..<outputChannels { bias[channel] += shift[channel] }
    }

    /// Weight and bias tensors, each value rounded once to the element type.
    func tensors() throws(TensorError) -> (weight: Tensor, bias: Tensor) {
        switch elementType {
        case .float64:
            return (try Tensor(float64: kernel, shape: shape), try Tensor(float64: bias, shape: [outputChannels]))
        default:
            return (try Tensor(float32: kernel.map { Float($0) }, shape: shape),
                    try Tensor(float32: bias.map { Float($0) }, shape: [outputChannels]))
        }
    }
}

extension GraphEditor {
    /// A Conv node reading `input` with new weight and bias initializers.
    mutating func makeConv(
        named name: String, input: String, weights: ConvWeights, attributes: [Attribute],
        output: String, fusedFrom: [String], pass: String
    ) throws(PassError) -> Node {
        let (weight, bias): (Tensor, Tensor)
        do {
            (weight, bias) = try weights.tensors()
        } catch {
            throw .invalidTensor(pass: pass, node: name, problem: "\(error)")
        }
        let weightName = addInitializer(weight, preferredName: "\(name).weight")
        let biasName = addInitializer(bias, preferredName: "\(name).bias")
        return Node(name: name, opType: "Conv", inputs: [input, weightName, biasName], outputs: [output],
                    attributes: attributes, fusedFrom: fusedFrom)
    }
}

extension GraphEditor {
    /// The rewrite of every "fold X into the Conv before it" pass: the Conv at `convIndex` and
    /// the node at `followerIndex` (which reads only it) become one Conv with `checked` weights,
    /// keeping the Conv's name and attributes and taking the follower's output name. A failed
    /// check is logged as a skip anchored on the follower.
    mutating func foldIntoConv(
        convIndex: Int, followerIndex: Int, checked: Result<ConvWeights, Skip>,
        index: GraphIndex, log: inout PassLog, pass: String
    ) throws(PassError) {
        let weights: ConvWeights
        switch checked {
        case .failure(let skip):
            log.skipped(index.name(followerIndex), because: skip.reason)
            return
        case .success(let folded):
            weights = folded
        }
        guard isFree([convIndex, followerIndex]) else { return }  // the next round takes it
        let conv = index.node(convIndex), follower = index.node(followerIndex)
        let fused = try makeConv(
            named: conv.name, input: conv.inputs[0], weights: weights, attributes: conv.attributes,
            output: follower.outputs[0], fusedFrom: provenance(conv) + provenance(follower), pass: pass)
        replace([convIndex, followerIndex], with: fused)
        log.rewrote([index.name(convIndex), index.name(followerIndex)], into: fused.name)
    }
}

/// Provenance of a node: the source nodes it stands for (itself, if it is a source node).
func provenance(_ node: Node) -> [String] {
    node.fusedFrom.isEmpty ? [node.name] : node.fusedFrom
}
