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
public struct FoldBatchNormIntoConv: GraphPass {
    public let name = "fold-batchnorm-into-conv"

    public init() {}

    public func run(on graph: inout Graph, log: inout PassLog) throws(PassError) {
        guard graph.nodes.contains(where: { $0.isONNX("BatchNormalization") }) else { return }
        let index = GraphIndex(graph)
        var editor = GraphEditor(graph)
        // match: every BatchNormalization whose input is a Conv's output.
        for (bnIndex, bn) in graph.nodes.enumerated() where bn.isONNX("BatchNormalization") {
            guard let (convIndex, conv) = index.producerNode(of: bn.inputs.first ?? ""), conv.isONNX("Conv") else {
                continue  // not this pass's pattern (batchnorm-to-depthwise-conv may take it)
            }
            // check, then rewrite
            try editor.foldIntoConv(
                convIndex: convIndex, followerIndex: bnIndex,
                checked: check(conv: conv, convIndex: convIndex, bn: bn, index: index),
                index: index, log: &log, pass: name)
        }
        graph = editor.finish()
    }

    private func check(conv: Node, convIndex: Int, bn: Node, index: GraphIndex) -> Result<ConvWeights, Skip> {
        Result {
            _ = try index.soleConsumer(of: bn.inputs[0], producedBy: index.name(convIndex)).get()
            let parameters = try BatchNormParameters.read(bn, index: index).get()
            var weights = try ConvWeights.read(conv, index: index).get()
            guard parameters.channels == weights.outputChannels else {
                throw Skip("BatchNormalization has \(parameters.channels) channels, the Conv \(weights.outputChannels) outputs")
            }
            weights.scaleOutputChannels(by: parameters.scale)
            weights.shiftOutputChannels(by: parameters.shift)
            return weights
        }.mapError { $0 as? Skip ?? Skip("\($0)") }
    }
}
