import GhostIR

/// `fold-batchnorm-into-following-conv`
///
/// **Given** `y = Conv(BatchNormalization(x, γ, β, μ, σ², ε), W, b)` (a pre-activation block:
/// the BN before the Conv), where the BN's output feeds only the Conv,
/// **Result** `y = Conv(x, W', b')` with s = γ/√(σ²+ε), t = β − μ·s per input channel and, for
/// output channel o of group g(o) and its input channel c = g(o)·(C/g) + i,
///
///     W'[o, i, …] = W[o, i, …] · s[c]
///     b'[o]       = b[o] + Σ_{i,…} W[o, i, …] · t[c]
///
/// **Conditions**: the Conv has no padding (explicit zeros, `auto_pad=VALID`, or SAME that
/// resolves to none): a padded Conv reads zeros at the border where the BN would have given
/// t, so the fold is not exact and is refused. W, b and the BN's parameters are constants, the
/// BN is in inference mode with one value per Conv input channel. Float64, rounded once.
public struct FoldBatchNormIntoFollowingConv: RewriteRule {
    public let name = "fold-batchnorm-into-following-conv"
    let anchorOperators: Set<String> = ["BatchNormalization"]

    public init() {}

    /// A BatchNormalization (the anchor) whose output a Conv reads as its data input.
    func match(_ index: GraphIndex) -> [NodeSite] {
        index.graph.nodes.indices.compactMap { bnIndex in
            let bn = index.node(bnIndex)
            guard bn.isONNX("BatchNormalization"), let output = bn.outputs.first,
                  let conv = (index.consumers[output] ?? []).first(where: { index.node($0).isONNX("Conv") && index.node($0).inputs.first == output })
            else { return nil }
            return NodeSite(anchor: bnIndex, others: [conv])
        }
    }

    func check(_ site: NodeSite, _ index: GraphIndex) throws(Skip) -> ConvWeights {
        let bn = index.node(site.anchor), convIndex = site.others[0], conv = index.node(convIndex)
        _ = try index.soleConsumer(of: bn.outputs[0], producedBy: index.name(site.anchor)).get()
        let parameters = try BatchNormParameters.read(bn, index: index).get()
        let stage = try ConvStage.conv(conv, index: index)
        guard !stage.hasPadding else {
            throw Skip(.batchNormBeforePaddedConv, "\(index.name(convIndex)) pads \(stage.geometry.pads) with zeros where the BatchNormalization would give its shift: not exact",
                       nodes: [index.name(convIndex)])
        }
        guard parameters.channels == stage.inputChannels else {
            throw Skip(.channelMismatch, "BatchNormalization has \(parameters.channels) channels, the Conv reads \(stage.inputChannels)")
        }
        var kernel = try stage.weights.float64Kernel()
        var bias = stage.weights.bias
        let perGroupIn = stage.geometry.inputChannelsPerGroup, perGroupOut = stage.geometry.outputChannels / stage.geometry.groups
        let positions = stage.weights.perChannel / perGroupIn
        for o in 0..<stage.geometry.outputChannels {
            let firstChannel = (o / perGroupOut) * perGroupIn
            for i in 0..<perGroupIn {
                let s = parameters.scale[firstChannel + i], t = parameters.shift[firstChannel + i]
                let row = (o * perGroupIn + i) * positions
                var sum = 0.0
                for u in row..<(row + positions) {
                    sum += kernel[u]
                    kernel[u] *= s
                }
                bias[o] += sum * t
            }
        }
        return try ConvWeights.values(kernel, shape: stage.weights.shape, bias: bias, elementType: stage.weights.elementType)
    }

    func rewrite(_ site: NodeSite, _ weights: ConvWeights, _ index: GraphIndex, _ editor: inout GraphEditor) throws(PassError) -> [Rewrite] {
        let bn = index.node(site.anchor), convIndex = site.others[0], conv = index.node(convIndex)
        let fused = try editor.makeConv(named: conv.name, input: bn.inputs[0], weights: weights, attributes: conv.attributes,
                                        output: conv.outputs[0], fusedFrom: provenance(bn) + provenance(conv), pass: name)
        let rewrite = Rewrite(replaced: [site.anchor, convIndex], result: fused.name, in: index)
        editor.replace([site.anchor, convIndex], with: fused)
        return [rewrite]
    }
}
