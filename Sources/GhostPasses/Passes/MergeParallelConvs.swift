import GhostIR

/// `merge-parallel-convs`
///
/// **Given** a branch sum (`BranchSum`: a tree of Add, Sub and Mul-by-constant nodes nothing else
/// reads) `y = Σᵢ cᵢ ⊙ Convᵢ(x, Kᵢ, bᵢ) + Σⱼ cⱼ ⊙ kⱼ` on one x with identical geometry — kernel
/// size, strides, pads, dilation 1, group — after `pad-kernel-to-3x3` and
/// `batchnorm-to-depthwise-conv` aligned them, with per-channel coefficients cᵢ (±, the product
/// of the Mul constants above the leaf) and constant leaves kⱼ,
/// **Result** one Conv taking the root's output name, per output channel o:
///
///     K[o] = Σᵢ cᵢ[o] · Kᵢ[o],     b[o] = Σᵢ cᵢ[o] · bᵢ[o] + Σⱼ cⱼ[o] · kⱼ[o]
///
/// Convolution is linear in its weights, so the combination of the branches' outputs is the
/// output of the combined weights. k-way: any number of branches (MobileOne has several 3×3
/// branches, a 1×1 scale branch and an identity BN; FastViT's RepMixer is
/// `x + γ ⊙ (BN(DWConv(x)) − BN(x))`).
///
/// **Conditions**: every branch output feeds only the tree; equal output channels and shapes;
/// every coefficient and constant leaf one value per channel (or one value).
/// The RepGhost block `Add(BN(DWConv3×3(x)), BN(x))` ends here as one depthwise 3×3 Conv.
///
/// **With `pad-kernel-to-3x3` right before it** (the default pipeline) this sweep does that pass's
/// work too (`AbsorbingPass`): a smaller kernel is centred in the largest as it joins the sum,
///
///     K = Σᵢ cᵢ · centred(Kᵢ),
///
/// which is what the padded Conv would have contributed, bit for bit (the padding adds zeros, the
/// sum is made once in Float64 either way). Each centred branch is logged under
/// `pad-kernel-to-3x3` (and a skipped sum that pass would have matched, under both), so the
/// reports read as if the two ran one after the other; the graph is indexed, edited and checked
/// once instead of twice, and a branch is padded only for a merge that takes it. Run alone, the
/// merge leaves a sum with a smaller kernel waiting for the padding (`waits-for-padding`).
public struct MergeParallelConvs: RewriteRule, AbsorbingPass {
    public let name = "merge-parallel-convs"
    public var requires: [String] { ["batchnorm-to-depthwise-conv", "pad-kernel-to-3x3"] }
    var absorbs: String { "pad-kernel-to-3x3" }
    let anchorOperators: Set<String> = ["Add", "Sub"]
    /// Whether this sweep centres smaller kernels itself (the work of `pad-kernel-to-3x3`).
    var alignsKernels = false

    public init() {}

    func run(on graph: inout Graph, log: inout PassLog, absorbedLog: inout PassLog, facts: GraphFacts) throws(PassError) {
        var aligning = self
        aligning.alignsKernels = true
        try RuleDriver.run(aligning, on: &graph, log: &log, absorbedLog: &absorbedLog, facts: facts)
    }

    struct Site: RuleSite {
        let sum: BranchSum
        /// Where `pad-kernel-to-3x3` anchors this sum, when this sweep does its work and the sum
        /// has a smaller kernel.
        let smallerBranch: Int?
        var anchor: Int { sum.root }
        /// The Conv branches (each once, in node order), then the tree.
        var claimed: [Int] {
            var nodes: [Int] = []
            for conv in sum.convIndices.sorted() where nodes.last != conv { nodes.append(conv) }
            return nodes + sum.tree
        }
    }

    struct Merge {
        let alignment: BranchAlignment
        let total: ConvWeights
        /// The Conv branches whose kernels were centred, in node order.
        let centred: [Int]
    }

    func match(_ index: GraphIndex) -> [Site] {
        BranchSum.find(in: index).map { sum in
            Site(sum: sum, smallerBranch: alignsKernels ? PadKernelTo3x3.smallerBranch(of: sum, in: index) : nil)
        }
    }

    func absorbedAnchor(_ site: Site) -> Int? { site.smallerBranch }

    func check(_ site: Site, _ index: GraphIndex) throws(Skip) -> Merge {
        let sum = site.sum
        let alignment = try BranchAlignment.check(sum, index: index)
        if let leaf = sum.leaves.first(where: \.branch.isIdentityLike) {
            throw Skip.waits(for: "batchnorm-to-depthwise-conv", .waitsForIdentityConv,
                             "the branch '\(leaf.value)' is a BatchNormalization or the input itself, which becomes a 1×1 Conv first")
        }
        let centred = alignment.smallerKernels
        if let convIndex = centred.first, !alignsKernels {
            throw Skip.waits(for: "pad-kernel-to-3x3", .waitsForPadding,
                             "\(index.name(convIndex)) has a smaller kernel than \(alignment.reference.kernel), which is padded first",
                             nodes: [index.name(convIndex)])
        }
        var total: ConvWeights?
        var constantBias: [Double]?
        for leaf in sum.leaves {
            guard case .conv(let convIndex) = leaf.branch else {
                if case .constant = leaf.branch {
                    let bias = try alignment.bias(of: leaf, index: index)
                    constantBias = zip(constantBias ?? Array(repeating: 0, count: bias.count), bias).map { $0 + $1 }
                }
                continue
            }
            var weights = try ConvWeights.read(index.node(convIndex), index: index, position: convIndex).get()
            if alignsKernels, centred.contains(convIndex) {
                weights = weights.centred(in: alignment.reference.kernel)
            }
            guard total == nil || total?.shape == weights.shape else {
                throw Skip(.weightShapeDiffers, "\(index.name(convIndex)) has weight shape \(weights.shape), its sibling \(total?.shape ?? [])",
                           nodes: [index.name(convIndex)])
            }
            if let factor = try alignment.coefficient(of: leaf, index: index) {
                weights.scaleOutputChannels(by: factor)
            }
            if var running = total {
                running.add(weights)
                total = running
            } else {
                total = weights
            }
        }
        guard var total else { throw Skip(.noConvBranch, "no branch is a Conv, so there is nothing to merge into") }
        if let constantBias { total.shiftOutputChannels(by: constantBias) }
        return Merge(alignment: alignment, total: total, centred: centred)
    }

    func rewrite(_ site: Site, _ merge: Merge, _ index: GraphIndex, _ editor: inout GraphEditor) throws(PassError) -> [Rewrite] {
        let nodes = site.claimed
        let graphNodes = index.graph.nodes
        let merged = try editor.makeConv(
            named: graphNodes[site.sum.convIndices[0]].name, input: site.sum.input, weights: merge.total,
            attributes: merge.alignment.reference.attributes, output: graphNodes[site.sum.root].outputs[0],
            fusedFrom: nodes.flatMap { provenance(of: $0, in: graphNodes) }, pass: name,
            reading: graphNodes[site.sum.convIndices[0]].inputs)
        // Each centred branch as `pad-kernel-to-3x3` reports it: the Conv, replaced by its padded self.
        let paddings = merge.centred.map { Rewrite(replaced: [$0], result: graphNodes[$0].name, in: index, absorbed: true) }
        let rewrite = Rewrite(replaced: nodes, result: merged.name, in: index)
        editor.replace(nodes, with: merged)
        return paddings + [rewrite]
    }
}
