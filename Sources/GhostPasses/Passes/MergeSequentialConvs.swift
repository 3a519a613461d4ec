import GhostIR

/// `merge-sequential-convs`
///
/// **Given** `y = B(A(x))` where A and B are each a Conv or an AveragePool (read as the depthwise
/// Conv it equals, K = 1/Πk; at least one of them a Conv), A's output feeds only B, and one of
/// them is pointwise (1×1…). With A: W_A [M, C/gA, k_A…], b_A and B: W_B [O, M/gB, k_B…], b_B,
/// **Result** `y = Conv(x, W, b)` with
///
///     W[o, c, u] = Σ_m W_B[o, m, u_B] · W_A[m, c, u_A]      (the pointwise side contributes u = 0)
///     b[o]       = b_B[o] + Σ_m (Σ_u W_B[o, m, u]) · b_A[m]
///
/// and the geometry, per spatial axis with strides s, dilations d, pads p:
///
/// - B pointwise (`Conv_k×k → Conv_1×1`, any k): A's kernel, stride s_A·s_B, dilation d_A, pads p_A.
///   Needs p_B = 0 (B's zero border would be b_B alone).
/// - A pointwise, p_B = 0: B's kernel, stride s_A·s_B, dilation s_A·d_B, pads p_A (A's border
///   outputs are b_A, which the merged bias carries at every tap).
/// - A pointwise, p_B ≠ 0 (`Conv_1×1 → Conv_k×k` with padding): B's geometry, exact only when
///   s_A = 1, p_A = 0 and b_A = 0 — B pads A's output with zeros, while the merged Conv would
///   see A's bias there (DBB pads with the BN's bias for this reason); otherwise refused.
///
/// Output sizes agree: ⌊⌊z/s_A⌋/s_B⌋ = ⌊z/(s_A·s_B)⌋. **Conditions**: constant weights; A's
/// output channels equal B's input channels; groups gA = gB (kept) or one of them 1 (dense
/// result); an AveragePool with `count_include_pad=1` or no padding, and `ceil_mode=0`. Two
/// spatial kernels in a row are refused (the product grows the kernel). Arithmetic in Float64,
/// rounded once to the Conv weight's type.
public struct MergeSequentialConvs: RewriteRule {
    public let name = "merge-sequential-convs"
    let anchorOperators: Set<String> = ["Conv"]

    public init() {}

    /// B (the anchor) reading A's output, which nothing else reads, both Conv or AveragePool, at
    /// least one a Conv.
    func match(_ index: GraphIndex) -> [NodeSite] {
        // Nodes are read in place (no copy of each): this runs over every node of the graph.
        let nodes = index.graph.nodes
        return nodes.indices.compactMap { second in
            // A stage whose output also feeds something else (a residual Add) is no chain.
            guard isStage(nodes[second]), let first = index.producer[nodes[second].inputs.first ?? ""], isStage(nodes[first]),
                  nodes[first].isONNX("Conv") || nodes[second].isONNX("Conv"),
                  let readers = index.consumers[nodes[first].outputs[0]], readers.count == 1, readers[0] == second else { return nil }
            return NodeSite(anchor: second, others: [first])
        }
    }

    struct Merge {
        let weights: ConvWeights
        let geometry: ConvGeometry
    }

    func check(_ site: NodeSite, _ index: GraphIndex) throws(Skip) -> Merge {
        let aNode = index.node(site.others[0]), bNode = index.node(site.anchor)
        _ = try index.soleConsumer(of: aNode.outputs[0], producedBy: index.name(site.others[0])).get()
        let a: ConvStage, b: ConvStage
        if aNode.isONNX("Conv") {
            a = try ConvStage.conv(aNode, index: index)
            b = bNode.isONNX("Conv") ? try ConvStage.conv(bNode, index: index)
                : try ConvStage.averagePool(bNode, channels: a.geometry.outputChannels, elementType: a.weights.elementType, index: index)
        } else {
            b = try ConvStage.conv(bNode, index: index)
            a = try ConvStage.averagePool(aNode, channels: b.inputChannels, elementType: b.weights.elementType, index: index)
        }
        guard a.geometry.outputChannels == b.inputChannels else {
            throw Skip(.sequentialChannelsMismatch, "the first stage has \(a.geometry.outputChannels) output channels, the second reads \(b.inputChannels)")
        }
        guard a.geometry.spatialRank == b.geometry.spatialRank else {
            throw Skip(.kernelRankDiffers, "the stages have \(a.geometry.spatialRank)-D and \(b.geometry.spatialRank)-D kernels")
        }
        let groups: Int
        if a.geometry.groups == b.geometry.groups {
            groups = a.geometry.groups
        } else if a.geometry.groups == 1 || b.geometry.groups == 1 {
            groups = 1
        } else {
            throw Skip(.sequentialGroupsUnsupported, "groups \(a.geometry.groups) then \(b.geometry.groups): only equal groups, or one of them 1, compose")
        }
        guard a.isPointwise || b.isPointwise else {
            throw Skip(.sequentialKernelsBothSpatial, "kernels \(a.geometry.kernel) then \(b.geometry.kernel): neither is 1×1, so the product would grow the kernel")
        }
        let geometry = try mergedGeometry(a, b, groups: groups)
        try checkWorthwhile(a, b, groups: groups, input: aNode.inputs[0], output: bNode.outputs[0], index: index)
        let (kernel, shape, bias) = try ConvComposition.compose(first: a, then: b, groups: groups)
        let elementType = aNode.isONNX("Conv") ? a.weights.elementType : b.weights.elementType
        return Merge(weights: try ConvWeights.values(kernel, shape: shape, bias: bias, elementType: elementType), geometry: geometry)
    }

    private func mergedGeometry(_ a: ConvStage, _ b: ConvStage, groups: Int) throws(Skip) -> ConvGeometry {
        let rank = a.geometry.spatialRank
        var strides: [Int] = []
        for axis in 0..<rank {
            let (stride, overflow) = a.geometry.strides[axis].multipliedReportingOverflow(by: b.geometry.strides[axis])
            guard !overflow else { throw Skip(.convAttributeMalformed, "strides \(a.geometry.strides) × \(b.geometry.strides) overflow") }
            strides.append(stride)
        }
        let kernel: [Int], dilations: [Int], pads: [Int]
        if a.isPointwise, b.hasPadding {
            guard a.geometry.strides.allSatisfy({ $0 == 1 }), !a.hasPadding else {
                throw Skip(.sequentialPaddingNotComposable, "the 1×1 has strides \(a.geometry.strides) or pads \(a.geometry.pads) and the next Conv pads \(b.geometry.pads)")
            }
            guard a.weights.bias.allSatisfy({ $0 == 0 }) else {
                throw Skip(.sequentialBiasUnderPadding, "the 1×1 has a bias and the next stage pads \(b.geometry.pads) with zeros: the merged border would see the bias")
            }
            return ConvGeometry(kernel: b.geometry.kernel, strides: b.geometry.strides, dilations: b.geometry.dilations,
                                pads: b.geometry.pads, groups: groups, outputChannels: b.geometry.outputChannels,
                                inputChannelsPerGroup: a.inputChannels / groups)
        } else if a.isPointwise {
            kernel = b.geometry.kernel
            var scaled: [Int] = []
            for axis in 0..<rank {
                let (dilation, overflow) = a.geometry.strides[axis].multipliedReportingOverflow(by: b.geometry.dilations[axis])
                guard !overflow else { throw Skip(.convAttributeMalformed, "dilations overflow") }
                scaled.append(dilation)
            }
            dilations = scaled
            pads = a.geometry.pads
        } else {
            guard !b.hasPadding else {
                throw Skip(.sequentialPaddingNotComposable, "the 1×1 after a \(a.geometry.kernel) kernel pads \(b.geometry.pads): its border would be its bias alone")
            }
            kernel = a.geometry.kernel
            dilations = a.geometry.dilations
            pads = a.geometry.pads
        }
        return ConvGeometry(kernel: kernel, strides: strides, dilations: dilations, pads: pads, groups: groups,
                            outputChannels: b.geometry.outputChannels, inputChannelsPerGroup: a.inputChannels / groups)
    }

    /// A product larger than its factors (a bottleneck 1×1 → 1×1, a depthwise k×k → dense 1×1)
    /// costs more than it saves, unless it is a branch of a sum (directly or through a
    /// BatchNormalization) with a sibling branch on the same input, which the branch merge then
    /// collapses (DBB's and ECB's sequential branches). A residual shortcut beside a different
    /// path (GhostNet's depthwise → 1×1 shortcut) is not such a sum.
    private func checkWorthwhile(_ a: ConvStage, _ b: ConvStage, groups: Int, input: String, output: String, index: GraphIndex) throws(Skip) {
        let positions = checkedProduct(a.isPointwise ? b.geometry.kernel : a.geometry.kernel) ?? Int.max
        let merged = (checkedProduct([b.geometry.outputChannels, a.inputChannels / groups]) ?? Int.max).multipliedReportingOverflow(by: positions)
        let separate = a.weights.outputChannels * a.weights.perChannel + b.weights.outputChannels * b.weights.perChannel
        guard merged.overflow || merged.partialValue > separate else { return }
        var value = output
        // A BatchNormalization first folds into the merged Conv, so it is looked through.
        if let readers = index.consumers[value], readers.count == 1, index.node(readers[0]).isONNX("BatchNormalization"),
           !index.isGraphOutput(value) {
            value = index.node(readers[0]).outputs[0]
        }
        guard !index.isGraphOutput(value), let readers = index.consumers[value], readers.count == 1,
              index.node(readers[0]).isONNX("Add"), siblingBranchExists(on: input, besides: value, inTreeOf: readers[0], index: index) else {
            throw Skip(.sequentialMergeCostlier, "the merged kernel would hold \(merged.overflow ? "too many" : String(merged.partialValue)) weights, more than the \(separate) of the two stages, and no branch sum on the same input follows")
        }
    }

    /// Whether the Add tree holding `add` has a leaf other than `own` computed from `input`
    /// through a few per-channel or convolution steps (a sibling branch a merge can join).
    private func siblingBranchExists(on input: String, besides own: String, inTreeOf add: Int, index: GraphIndex) -> Bool {
        var root = add
        while let output = index.node(root).outputs.first, !index.isGraphOutput(output),
              let readers = index.consumers[output], readers.count == 1, index.node(readers[0]).isONNX("Add") {
            root = readers[0]
        }
        var pending = [root], leaves: [String] = []
        while let next = pending.popLast() {
            for operand in index.node(next).inputs {
                if let (producer, node) = index.producerNode(of: operand), node.isONNX("Add"), index.consumers[operand] == [next],
                   index.constant(node.inputs.first ?? "") == nil, index.constant(node.inputs.last ?? "") == nil {
                    pending.append(producer)
                } else {
                    leaves.append(operand)
                }
            }
        }
        let steps: Set<String> = ["Conv", "BatchNormalization", "AveragePool", "Mul", "Add", "Sub", "Div"]
        for leaf in leaves where leaf != own {
            var value = leaf
            for _ in 0..<5 {
                if value == input { return true }
                guard let (_, node) = index.producerNode(of: value), node.domain.isEmpty, steps.contains(node.opType),
                      let next = node.inputs.first(where: { !$0.isEmpty && index.constant($0) == nil }) else { break }
                value = next
            }
        }
        return false
    }

    func rewrite(_ site: NodeSite, _ merge: Merge, _ index: GraphIndex, _ editor: inout GraphEditor) throws(PassError) -> [Rewrite] {
        let a = index.node(site.others[0]), b = index.node(site.anchor)
        let conv = try editor.makeConv(
            named: a.isONNX("Conv") ? a.name : b.name, input: a.inputs[0], weights: merge.weights,
            attributes: merge.geometry.attributes, output: b.outputs[0], fusedFrom: provenance(a) + provenance(b), pass: name)
        let rewrite = Rewrite(replaced: [site.others[0], site.anchor], result: conv.name, in: index)
        editor.replace([site.others[0], site.anchor], with: conv)
        return [rewrite]
    }

    private func isStage(_ node: Node) -> Bool {
        node.isONNX("Conv") || node.isONNX("AveragePool")
    }
}
