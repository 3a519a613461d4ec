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
public struct BatchNormToDepthwiseConv: RewriteRule {
    public let name = "batchnorm-to-depthwise-conv"
    let anchorOperators: Set<String> = ["Add", "Sub"]

    public init() {}

    /// A branch sum with a BatchNormalization or identity branch, anchored on its first BN (or
    /// its root Add for a bare identity); it replaces the BNs and the Adds reading the input.
    struct Site: RuleSite {
        let sum: BranchSum
        let anchor: Int
        let batchNorms: [Int]
        let identityAdds: [Int]
        var claimed: [Int] { batchNorms + identityAdds }
    }

    struct Conversion {
        let alignment: BranchAlignment
        let parameters: [BatchNormParameters]
        let weightType: ElementType
    }

    func match(_ index: GraphIndex) -> [Site] {
        BranchSum.find(in: index).compactMap { sum in
            guard sum.leaves.contains(where: \.branch.isIdentityLike) else { return nil }
            let batchNorms = sum.leaves.compactMap { if case .batchNorm(let i) = $0.branch { i } else { nil } }
            let identityAdds = sum.tree.filter { index.graph.nodes[$0].inputs.contains(sum.input) }.sorted()
            return Site(sum: sum, anchor: batchNorms.first ?? sum.root, batchNorms: batchNorms, identityAdds: identityAdds)
        }
    }

    func check(_ site: Site, _ index: GraphIndex) throws(Skip) -> Conversion {
        let alignment = try BranchAlignment.check(site.sum, index: index)
        // The alignment read every BN leaf's parameters (and failed with the read's reason if one failed).
        let parameters = try site.batchNorms.map { bnIndex throws(Skip) in
            if let parameters = alignment.batchNorms[bnIndex] { return parameters }
            return try BatchNormParameters.read(index.graph.nodes[bnIndex], index: index).get()
        }
        let weightType = index.constant(index.node(site.sum.convIndices[0]).inputs[1])?.elementType ?? .float32
        return Conversion(alignment: alignment, parameters: parameters, weightType: weightType)
    }

    func rewrite(_ site: Site, _ conversion: Conversion, _ index: GraphIndex, _ editor: inout GraphEditor) throws(PassError) -> [Rewrite] {
        let sum = site.sum, alignment = conversion.alignment
        var rewrites: [Rewrite] = []
        for (bnIndex, parameters) in zip(site.batchNorms, conversion.parameters) {
            let bn = index.node(bnIndex)
            let weights = identityWeights(scale: parameters.scale, shift: parameters.shift, alignment: alignment, type: conversion.weightType)
            let conv = try editor.makeConv(
                named: bn.name, input: sum.input, weights: weights, attributes: attributes(alignment),
                output: bn.outputs[0], fusedFrom: provenance(bn), pass: name)
            rewrites.append(Rewrite(replaced: [bnIndex], result: conv.name, in: index))
            editor.replace([bnIndex], with: conv)
        }
        if !site.identityAdds.isEmpty {
            let ones = [Double](repeating: 1, count: alignment.channels)
            let weights = identityWeights(scale: ones, shift: ones.map { _ in 0 }, alignment: alignment, type: conversion.weightType)
            let root = index.node(sum.root)
            let output = editor.uniqueName("\(sum.input).identity")
            let conv = try editor.makeConv(
                named: editor.uniqueName("\(root.name).identity"), input: sum.input, weights: weights,
                attributes: attributes(alignment), output: output, fusedFrom: [root.name], pass: name)
            for (position, addIndex) in site.identityAdds.enumerated() {
                var add = index.node(addIndex)
                add.inputs = add.inputs.map { $0 == sum.input ? output : $0 }
                // The identity Conv goes just before the first Add that reads it.
                editor.place(position == 0 ? [conv, add] : [add], at: addIndex)
            }
            // Reported under the root Add: the Adds themselves stay (reading the new Conv).
            rewrites.append(Rewrite(describing: [index.name(sum.root) + " (identity operand)"], result: conv.name))
        }
        return rewrites
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
