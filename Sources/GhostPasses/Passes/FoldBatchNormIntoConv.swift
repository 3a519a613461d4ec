import GhostIR

/// `fold-batchnorm-into-conv`
///
/// **Given** `y = BatchNormalization(Conv(x, W, b), γ, β, μ, σ², ε)` where the Conv's output feeds
/// only the BatchNormalization,
/// **Result** `y = Conv(x, W', b')` with, per output channel o and s = γ/√(σ²+ε):
///
///     W'[o, …] = W[o, …] · s[o]
///     b'[o]    = (b[o] − μ[o]) · s[o] + β[o]        (b = 0 when the Conv has no bias)
///
/// **Conditions**: W, b, γ, β, μ, σ² are constants with one value per output channel (any
/// `group`, any kernel size or rank); the BN is in inference mode (`training_mode=1` is refused)
/// and its running-statistics outputs are unused; the Conv output is not a graph output and has
/// no other reader. Arithmetic in Float64, rounded once to W's type. The fused Conv keeps the
/// Conv's name and attributes and takes the BN's output name.
public struct FoldBatchNormIntoConv: RewriteRule {
    public let name = "fold-batchnorm-into-conv"
    let anchorOperators: Set<String> = ["BatchNormalization"]

    public init() {}

    /// Every BatchNormalization whose input is a Conv's output (anchored on the BN; a BN on
    /// anything else is `batchnorm-to-depthwise-conv`'s to take).
    func match(_ index: GraphIndex) -> [NodeSite] {
        // Nodes are read in place (no copy of each): this runs over every node of the graph.
        let nodes = index.graph.nodes
        return nodes.indices.compactMap { bnIndex in
            guard nodes[bnIndex].isONNX("BatchNormalization"), let convIndex = index.producer[nodes[bnIndex].inputs.first ?? ""],
                  nodes[convIndex].isONNX("Conv") else { return nil }
            return NodeSite(anchor: bnIndex, others: [convIndex])
        }
    }

    func check(_ site: NodeSite, _ index: GraphIndex) throws(Skip) -> ConvWeights {
        let convIndex = site.others[0], nodes = index.graph.nodes
        _ = try index.soleConsumer(of: nodes[site.anchor].inputs[0], producedBy: index.name(convIndex)).get()
        let parameters = try BatchNormParameters.read(nodes[site.anchor], index: index, position: site.anchor).get()
        var weights = try ConvWeights.read(nodes[convIndex], index: index, position: convIndex).get()
        guard parameters.channels == weights.outputChannels else {
            throw Skip(.channelMismatch, "BatchNormalization has \(parameters.channels) channels, the Conv \(weights.outputChannels) outputs")
        }
        weights.scaleOutputChannels(by: parameters.scale)
        weights.shiftOutputChannels(by: parameters.shift)
        return weights
    }

    func rewrite(_ site: NodeSite, _ weights: ConvWeights, _ index: GraphIndex, _ editor: inout GraphEditor) throws(PassError) -> [Rewrite] {
        [try editor.foldIntoConv(convIndex: site.others[0], followerIndex: site.anchor, weights: weights, index: index, pass: name)]
    }
}
