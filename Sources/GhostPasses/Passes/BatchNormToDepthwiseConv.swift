import GhostIR

/// `batchnorm-to-depthwise-conv`
///
/// **Given** a branch sum (see `BranchSum`) over input x with at least one Conv branch and a
/// branch that is `BatchNormalization(x)` or x itself,
/// **Result** that branch becomes `Conv(x, K, b)` with a 1×1 kernel and the Conv siblings' group
/// count g, so the next passes can merge it: with C channels and s, t the BN's per-channel scale
/// and shift (s = 1, t = 0 for a bare identity),
///
///     K[o, o mod (C/g), 0, 0] = s[o],   every other entry 0;     b[o] = t[o]
///
/// **Conditions**: the whole sum must be mergeable (`BranchAlignment`: every branch a Conv, BN or
/// identity on x; equal strides, groups and channels; dilation 1; kernels centrable under the
/// pads). Turning a BN into a convolution costs memory and time on its own, so it is done only
/// when a merge follows (the same trade-off ExecuTorch documents for standalone BN).
public struct BatchNormToDepthwiseConv: GraphPass {
    public let name = "batchnorm-to-depthwise-conv"

    public init() {}

    public func run(on graph: inout Graph, log: inout PassLog) throws(PassError) {
        guard BranchSum.mayExist(in: graph) else { return }
        let index = GraphIndex(graph)
        var editor = GraphEditor(graph)
        for sum in BranchSum.find(in: index) where sum.leaves.contains(where: \.branch.isIdentityLike) {
            let anchor = sum.leaves.lazy.compactMap { leaf -> String? in
                if case .batchNorm(let bnIndex) = leaf.branch { index.name(bnIndex) } else { nil }
            }.first ?? index.name(sum.root)
            let alignment: BranchAlignment
            switch BranchAlignment.check(sum, index: index) {
            case .failure(let skip):
                log.skipped(anchor, because: skip.reason)
                continue
            case .success(let checked):
                alignment = checked
            }
            let bnIndices = sum.leaves.compactMap { if case .batchNorm(let i) = $0.branch { i } else { nil } }
            let identityAdds = sum.adds.filter { index.node($0).inputs.contains(sum.input) }
            guard editor.isFree(bnIndices + identityAdds) else { continue }
            let weightType = index.constant(index.node(sum.convIndices[0]).inputs[1])?.elementType ?? .float32
            for bnIndex in bnIndices {
                let bn = index.node(bnIndex)
                guard case .success(let parameters) = BatchNormParameters.read(bn, index: index) else { continue }
                let weights = identityWeights(scale: parameters.scale, shift: parameters.shift, alignment: alignment, type: weightType)
                let conv = try editor.makeConv(
                    named: bn.name, input: sum.input, weights: weights, attributes: attributes(alignment),
                    output: bn.outputs[0], fusedFrom: provenance(bn), pass: name)
                editor.replace([bnIndex], with: conv)
                log.rewrote([index.name(bnIndex)], into: conv.name)
            }
            if !identityAdds.isEmpty {
                let ones = [Double](repeating: 1, count: alignment.channels)
                let weights = identityWeights(scale: ones, shift: ones.map { _ in 0 }, alignment: alignment, type: weightType)
                let root = index.node(sum.root)
                let output = editor.uniqueName("\(sum.input).identity")
                let conv = try editor.makeConv(
                    named: editor.uniqueName("\(root.name).identity"), input: sum.input, weights: weights,
                    attributes: attributes(alignment), output: output, fusedFrom: [root.name], pass: name)
                for (position, addIndex) in identityAdds.enumerated() {
                    var add = index.node(addIndex)
                    add.inputs = add.inputs.map { $0 == sum.input ? output : $0 }
                    // The identity Conv goes just before the first Add that reads it.
                    editor.place(position == 0 ? [conv, add] : [add], at: addIndex)
                }
                log.rewrote([index.name(sum.root) + " (identity operand)"], into: conv.name)
            }
        }
        graph = editor.finish()
    }

    /// K[o, o mod (C/g), centre…] = scale[o], bias = shift, with a 1×1… kernel.
    private func identityWeights(scale: [Double], shift: [Double], alignment: BranchAlignment, type: ElementType) -> ConvWeights {
        ConvWeights.identity(scale: scale, shift: shift, inputChannelsPerGroup: alignment.reference.inputChannelsPerGroup,
                             spatialRank: alignment.reference.spatialRank, elementType: type)
    }

    private func attributes(_ alignment: BranchAlignment) -> [Attribute] {
        let rank = alignment.reference.spatialRank
        return ConvGeometry(
            kernel: Array(repeating: 1, count: rank), strides: Array(repeating: 1, count: rank),
            dilations: Array(repeating: 1, count: rank), pads: Array(repeating: 0, count: 2 * rank),
            groups: alignment.reference.groups, outputChannels: alignment.channels,
            inputChannelsPerGroup: alignment.reference.inputChannelsPerGroup).attributes
    }
}
