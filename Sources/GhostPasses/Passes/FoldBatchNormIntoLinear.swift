import GhostIR

/// `fold-batchnorm-into-linear`
///
/// **Given** a linear layer y = x·W + b (`Gemm`, or `MatMul` with a constant 2-D weight and an
/// optional constant bias `Add`; W [K, N]) and an inference BatchNormalization with
/// s = γ/√(σ²+ε), t = β − μ·s, either
/// - after it, `BN(y)` over [rows, N] (RepViT/LeViT heads; also `BN(Flatten(y))` or
///   `BN(Reshape(y, [rows, N]))` of a [B, L, N] output, LeViT's `flatten(0, 1)`), or
/// - before it, `Linear(BN(x))` over [rows, K] (`nn.BatchNorm1d → nn.Linear`),
///
/// **Result** one linear layer (the same form, MatMul + Add or Gemm with alpha = beta = 1):
///
///     after:   W'[k, n] = W[k, n]·s[n],   b' = s ⊙ b + t
///     before:  W'[k, n] = s[k]·W[k, n],   b' = b + Σ_k t[k]·W[k, n]
///
/// and a Flatten/Reshape in between stays, moved after the layer.
/// **Conditions**: the BN's operand has rank 2 (its channel axis 1 is then the feature axis;
/// an undeclared rank is refused, as a [B, L, F] operand would normalize L); constants
/// throughout; one BN value per feature; the values between have no other reader; Gemm
/// `transA=0`, bias per feature. Float64, rounded once.
public struct FoldBatchNormIntoLinear: RewriteRule {
    public let name = "fold-batchnorm-into-linear"
    let anchorOperators: Set<String> = ["BatchNormalization"]

    public init() {}

    func match(_ index: GraphIndex) -> [LinearFoldSite] {
        index.graph.nodes.indices.compactMap { position in
            let bn = index.node(position)
            guard bn.isONNX("BatchNormalization"), let input = bn.inputs.first, let output = bn.outputs.first else { return nil }
            return LinearFoldSite.find(anchor: position, operand: input, output: output, index: index, allowAfter: true)
        }
    }

    func check(_ site: LinearFoldSite, _ index: GraphIndex) throws(Skip) -> LinearLayer {
        let parameters = try BatchNormParameters.read(index.node(site.anchor), index: index, position: site.anchor).get()
        return try site.fold(index: index, operand: index.node(site.anchor).inputs[0], featureAxisIsLast: false) { features, _ throws(Skip) in
            guard parameters.channels == features else {
                throw Skip(.linearFeatureMismatch, "BatchNormalization has \(parameters.channels) channels, the linear layer \(features) features there")
            }
            return (parameters.scale, parameters.shift)
        }
    }

    func rewrite(_ site: LinearFoldSite, _ layer: LinearLayer, _ index: GraphIndex, _ editor: inout GraphEditor) throws(PassError) -> [Rewrite] {
        try site.rewrite(layer, index: index, editor: &editor, pass: name)
    }
}
