import GhostIR

/// `pad-kernel-to-3x3` — the alignment step of a merge, reported on its own in `--explain`.
///
/// **Given** a mergeable branch sum (see `BranchAlignment`) whose largest Conv branch has a
/// K×K kernel and pads P, and a Conv branch with a smaller k×k kernel and pads p,
/// **Result** the smaller branch's kernel is zero-padded to K×K, centred, and its pads become P:
///
///     K'[o, i, a + (K−k)/2, b + (K−k)/2] = K[o, i, a, b],   zero elsewhere;   pads' = P
///
/// which computes the same output exactly when P − p = (K − k)/2 on every side (checked, with
/// asymmetric pads and resolved auto_pad). The name says 3×3 after the RepVGG/RepGhost case of
/// 1×1 into 3×3; any odd difference of sizes, in any spatial rank, works the same way.
///
/// **Conditions**: as for the merge — otherwise padding would only make the branch slower.
///
/// When `merge-parallel-convs` runs right after it (the default pipeline), that pass's sweep does
/// this one's work (`AbsorbingPass`): each branch it centres for a merge is logged here, as this
/// pass would have logged it, and the padded Conv never enters the graph. Alone (the merge
/// disabled) it rewrites the graph as described.
public struct PadKernelTo3x3: RewriteRule {
    public let name = "pad-kernel-to-3x3"
    public var requires: [String] { ["batchnorm-to-depthwise-conv"] }
    let anchorOperators: Set<String> = ["Add", "Sub"]

    public init() {}

    /// A branch sum whose Conv branches have more than one kernel size; anchored on its first
    /// smaller Conv, claiming every Conv branch (the smaller ones are replaced).
    struct Site: RuleSite {
        let sum: BranchSum
        let anchor: Int
        var claimed: [Int] { sum.convIndices }
    }

    func match(_ index: GraphIndex) -> [Site] {
        BranchSum.find(in: index).compactMap { sum in
            Self.smallerBranch(of: sum, in: index).map { Site(sum: sum, anchor: $0) }
        }
    }

    /// The first Conv branch of `sum` whose kernel is not the largest, by the weights' shapes:
    /// the node a site of this pass is anchored on (and reported under, also when
    /// `merge-parallel-convs` does this pass's work in its own sweep). nil when every Conv
    /// branch has one kernel size.
    static func smallerBranch(of sum: BranchSum, in index: GraphIndex) -> Int? {
        let kernels = sum.convIndices.map { convIndex -> [Int] in
            let inputs = index.graph.nodes[convIndex].inputs
            guard inputs.count > 1 else { return [] }
            // A constant weight by its slot (no hash); otherwise its declared shape.
            let shape = index.constantInput(1, ofNode: convIndex)?.shape ?? index.shape(of: inputs[1])
            return Array((shape ?? []).dropFirst(2))
        }
        guard let largest = kernels.max(by: { $0.reduce(1, *) < $1.reduce(1, *) }) else { return nil }
        return zip(sum.convIndices, kernels).first(where: { $0.1 != largest })?.0
    }

    /// The padded weights and target geometry of each smaller branch.
    struct Padding {
        let convIndex: Int
        let weights: ConvWeights
        let geometry: ConvGeometry
    }

    func check(_ site: Site, _ index: GraphIndex) throws(Skip) -> [Padding] {
        let alignment = try BranchAlignment.check(site.sum, index: index)
        if let leaf = site.sum.leaves.first(where: \.branch.isIdentityLike) {
            throw Skip.waits(for: "batchnorm-to-depthwise-conv", .waitsForIdentityConv,
                             "the branch '\(leaf.value)' is a BatchNormalization or the input itself, which becomes a 1×1 Conv first")
        }
        var paddings: [Padding] = []
        for convIndex in alignment.smallerKernels {
            guard let geometry = alignment.convs[convIndex] else { continue }
            let weights = try ConvWeights.read(index.node(convIndex), index: index, position: convIndex).get()
            var target = alignment.reference
            target.outputChannels = geometry.outputChannels
            paddings.append(Padding(convIndex: convIndex, weights: weights.centred(in: alignment.reference.kernel), geometry: target))
        }
        return paddings
    }

    func rewrite(_ site: Site, _ paddings: [Padding], _ index: GraphIndex, _ editor: inout GraphEditor) throws(PassError) -> [Rewrite] {
        var rewrites: [Rewrite] = []
        for padding in paddings {
            let conv = index.node(padding.convIndex)
            let replacement = try editor.makeConv(
                named: conv.name, input: conv.inputs[0], weights: padding.weights, attributes: padding.geometry.attributes,
                output: conv.outputs[0], fusedFrom: provenance(conv), pass: name, reading: conv.inputs)
            rewrites.append(Rewrite(replaced: [padding.convIndex], result: replacement.name, in: index))
            editor.replace([padding.convIndex], with: replacement)
        }
        return rewrites
    }
}
