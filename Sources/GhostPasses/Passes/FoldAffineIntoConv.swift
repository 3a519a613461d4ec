import GhostIR

/// `fold-affine-into-conv`
///
/// **Given** `y = Conv(x, W, b) ⊙ c` for ⊙ ∈ {Mul, Add, Sub, Div}, or `y = c ⊙ Conv(…)` for Mul,
/// Add and Sub, where c is a constant holding one value per output channel (shape [C,1,1],
/// [1,C,1,1], or a single value broadcast to all),
/// **Result** `y = Conv(x, W', b')` with, per output channel o:
///
///     Mul  (W·c, b·c)          Div  (W/c, b/c)
///     Add  (W,   b + c)        Sub  (W,   b − c);   c − Conv: (−W, c − b)
///
/// **Conditions**: W and b constants; the Conv output has no other reader and is not a graph
/// output; c broadcasts along the channel axis only (the result keeps the Conv's shape); no
/// division by zero. This is what exporters and dynamo's decompositions emit for a BN written as
/// `x * scale + shift`.
public struct FoldAffineIntoConv: RewriteRule {
    public let name = "fold-affine-into-conv"
    let anchorOperators: Set<String> = ["Mul", "Add", "Sub", "Div"]

    public init() {}

    /// A two-operand Mul/Add/Sub/Div (the anchor) with one operand produced by a Conv and the
    /// other a constant.
    struct Site: RuleSite {
        let anchor: Int
        let conv: Int
        let convOnLeft: Bool
        var claimed: [Int] { [conv, anchor] }
    }

    func match(_ index: GraphIndex) -> [Site] {
        // Nodes are read in place (no copy of each), each operand's producer looked up once.
        let nodes = index.graph.nodes
        return nodes.indices.compactMap { opIndex in
            guard nodes[opIndex].inputs.count == 2, nodes[opIndex].domain.isEmpty, anchorOperators.contains(nodes[opIndex].opType) else { return nil }
            let inputs = nodes[opIndex].inputs
            let convSide: Int, convIndex: Int
            // The operands by the ids the index gave them: no name hashed.
            if !inputs[0].isEmpty, let first = index.inputID(0, ofNode: opIndex).flatMap(index.producer(id:)), nodes[first].isONNX("Conv") {
                (convSide, convIndex) = (0, first)
            } else if !inputs[1].isEmpty, let second = index.inputID(1, ofNode: opIndex).flatMap(index.producer(id:)),
                      nodes[second].isONNX("Conv") {
                (convSide, convIndex) = (1, second)
            } else {
                return nil
            }
            guard index.constantInput(1 - convSide, ofNode: opIndex) != nil else { return nil }
            return Site(anchor: opIndex, conv: convIndex, convOnLeft: convSide == 0)
        }
    }

    func check(_ site: Site, _ index: GraphIndex) throws(Skip) -> ConvWeights {
        let op = index.node(site.anchor), conv = index.node(site.conv)
        _ = try index.soleConsumer(of: conv.outputs[0], producedBy: index.name(site.conv)).get()
        var weights = try ConvWeights.read(conv, index: index).get()
        guard let constant = index.constant(op.inputs[site.convOnLeft ? 1 : 0]) else {
            throw Skip(.operandNotConstant, "the other operand is not a constant")
        }
        let values = try perChannel(constant, channels: weights.outputChannels, convRank: weights.shape.count)
        switch (op.opType, site.convOnLeft) {
        case ("Mul", _):
            weights.scaleOutputChannels(by: values)
        case ("Add", _):
            weights.shiftOutputChannels(by: values)
        case ("Sub", true):
            weights.shiftOutputChannels(by: values.map { -$0 })
        case ("Sub", false):
            weights.scaleOutputChannels(by: Array(repeating: -1, count: values.count))
            weights.shiftOutputChannels(by: values)
        case ("Div", true):
            guard values.allSatisfy({ $0 != 0 }) else { throw Skip(.divisorHasZero, "the divisor has a zero") }
            weights.scaleOutputChannels(by: values.map { 1 / $0 })
        default:
            throw Skip(.convIsDivisor, "the Conv output is the divisor, which is not affine")
        }
        return weights
    }

    func rewrite(_ site: Site, _ weights: ConvWeights, _ index: GraphIndex, _ editor: inout GraphEditor) throws(PassError) -> [Rewrite] {
        [try editor.foldIntoConv(convIndex: site.conv, followerIndex: site.anchor, weights: weights, index: index, pass: name)]
    }

    /// The constant as one value per output channel, if it broadcasts along channels only.
    private func perChannel(_ constant: Tensor, channels: Int, convRank: Int) throws(Skip) -> [Double] {
        guard constant.elementType.isFloatingPoint else { throw Skip(.constantNotFloatingPoint, "the constant is \(constant.elementType), not floating point") }
        let values = constant.doubleValues()
        if values.count == 1 { return Array(repeating: values[0], count: channels) }
        // Right-aligned against the Conv output [N, C, spatial…]: C sits spatialRank+1 from the end.
        let spatialRank = convRank - 2
        let shape = constant.shape
        guard shape.count >= spatialRank + 1, shape.count <= convRank,
              shape[shape.count - spatialRank - 1] == channels,
              shape.enumerated().allSatisfy({ $0.offset == shape.count - spatialRank - 1 || $0.element == 1 }) else {
            throw Skip(.constantNotPerChannel, "the constant's shape \(shape) is not per-channel for \(channels) channels")
        }
        return values
    }
}
