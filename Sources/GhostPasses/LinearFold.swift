import GhostIR

/// Where a per-feature affine map sits around a linear layer (see `LinearLayer`), and the
/// checks and rewrite both linear folding rules share.
struct LinearFoldSite: RuleSite {
    enum Side {
        /// The affine node reads the layer's output, directly or through `reshape` (a Flatten
        /// or Reshape that keeps the feature axis last, as LeViT's `flatten(0, 1)` exports).
        case after(layerEnd: Int, reshape: Int?)
        /// The layer (its Gemm or MatMul) reads the affine node's output.
        case before(main: Int)
    }

    let anchor: Int
    let side: Side
    /// The layer's nodes, as far as matching can tell (the check reads them again).
    let layerNodes: [Int]
    var claimed: [Int] {
        var nodes = layerNodes + [anchor]
        if case .after(_, let reshape?) = side { nodes.append(reshape) }
        return nodes
    }

    /// The site of `anchor` (reading `operand`, writing `output`), if a layer is next to it.
    static func find(anchor: Int, operand: String, output: String, index: GraphIndex, allowAfter: Bool) -> LinearFoldSite? {
        if allowAfter, let end = LinearLayer.producing(operand, index: index) {
            return LinearFoldSite(anchor: anchor, side: .after(layerEnd: end, reshape: nil), layerNodes: nodes(end, index: index, followBias: false))
        }
        if allowAfter, let (reshape, node) = index.producerNode(of: operand), node.isONNX("Flatten") || node.isONNX("Reshape"),
           let end = LinearLayer.producing(node.inputs.first ?? "", index: index) {
            return LinearFoldSite(anchor: anchor, side: .after(layerEnd: end, reshape: reshape), layerNodes: nodes(end, index: index, followBias: false))
        }
        if let main = (index.consumers[output] ?? []).first(where: {
            let node = index.node($0)
            return (node.isONNX("Gemm") || node.isONNX("MatMul")) && node.inputs.first == output
        }) {
            return LinearFoldSite(anchor: anchor, side: .before(main: main), layerNodes: nodes(main, index: index, followBias: true))
        }
        return nil
    }

    private static func nodes(_ position: Int, index: GraphIndex, followBias: Bool) -> [Int] {
        (try? LinearLayer.read(at: position, index: index, followBias: followBias).nodes) ?? [position]
    }

    /// The layer with the affine map s ⊙ v + t folded in, after checking the site's sharing, the
    /// feature count and that the map's axis is the feature axis. `featureAxisIsLast`: whether
    /// the map's constants are laid along the operand's last axis (Mul/Add/…) rather than axis 1
    /// (BatchNormalization, which then needs a rank-2 operand).
    func fold(index: GraphIndex, operand: String, featureAxisIsLast: Bool,
              affine: (_ features: Int, _ operandRank: Int?) throws(Skip) -> (scale: [Double], shift: [Double])) throws(Skip) -> LinearLayer {
        let anchorNode = index.node(anchor)
        switch side {
        case .after(let end, let reshape):
            var layer = try LinearLayer.read(at: end, index: index, followBias: false)
            _ = try index.soleConsumer(of: layer.output, producedBy: index.name(end)).get()
            var rank = layer.rank
            if let reshape {
                _ = try index.soleConsumer(of: operand, producedBy: index.name(reshape)).get()
                try Self.checkKeepsFeatures(reshape, features: layer.outFeatures, inputRank: layer.rank, index: index)
                rank = 2
            }
            if !featureAxisIsLast { try Self.checkRankTwo(rank, what: index.name(end)) }
            let (scale, shift) = try affine(layer.outFeatures, rank)
            layer.foldAfter(scale: scale, shift: shift)
            return layer
        case .before(let main):
            var layer = try LinearLayer.read(at: main, index: index, followBias: true)
            _ = try index.soleConsumer(of: anchorNode.outputs[0], producedBy: index.name(anchor)).get()
            let rank = layer.rank ?? index.shape(of: operand)?.count
            if !featureAxisIsLast { try Self.checkRankTwo(rank, what: index.name(main)) }
            let (scale, shift) = try affine(layer.inFeatures, rank)
            layer.foldBefore(scale: scale, shift: shift)
            return layer
        }
    }

    /// Replaces the affine node and the layer (and re-emits the reshape between them).
    func rewrite(_ layer: LinearLayer, index: GraphIndex, editor: inout GraphEditor, pass: String) throws(PassError) -> [Rewrite] {
        let anchorNode = index.node(anchor)
        let fusedFrom = layer.nodes.flatMap { provenance(index.node($0)) } + provenance(anchorNode)
        var replaced = layer.nodes + [anchor]
        var nodes: [Node]
        switch side {
        case .after(_, let reshape):
            if let reshape {
                nodes = try layer.nodes(input: layer.input, output: layer.output, index: index, editor: &editor, fusedFrom: fusedFrom, pass: pass)
                var moved = index.node(reshape)
                moved.outputs = [anchorNode.outputs[0]]
                nodes.append(moved)
                replaced.append(reshape)
            } else {
                nodes = try layer.nodes(input: layer.input, output: anchorNode.outputs[0], index: index, editor: &editor, fusedFrom: fusedFrom, pass: pass)
            }
        case .before:
            nodes = try layer.nodes(input: anchorNode.inputs.first { index.constant($0) == nil } ?? anchorNode.inputs[0], output: layer.output,
                                    index: index, editor: &editor, fusedFrom: fusedFrom, pass: pass)
        }
        let last = replaced.max() ?? anchor
        editor.replace(replaced.filter { $0 != last }, with: nil)
        editor.place(nodes, at: last)
        return [Rewrite(replaced: replaced.sorted(), result: index.node(layer.main).name, in: index)]
    }

    private static func checkRankTwo(_ rank: Int?, what: String) throws(Skip) {
        guard let rank else {
            throw Skip(.linearRankUnknown, "the rank of \(what)'s features is not declared: a BatchNormalization normalizes axis 1, the feature axis only of a rank-2 tensor")
        }
        guard rank == 2 else {
            throw Skip(.linearRankUnknown, "\(what)'s features are a rank-\(rank) tensor: the BatchNormalization's axis 1 is not its feature axis")
        }
    }

    /// A Flatten or Reshape to [rows, features] of a tensor whose last axis is the features.
    private static func checkKeepsFeatures(_ position: Int, features: Int, inputRank: Int?, index: GraphIndex) throws(Skip) {
        let node = index.node(position)
        if node.isONNX("Flatten") {
            let axis = Int(clamping: node.attribute("axis")?.intValue ?? 1)
            guard axis == -1 || (inputRank.map { axis == $0 - 1 } ?? false) else {
                throw Skip(.reshapeMovesFeatures, "Flatten axis \(axis) of a rank-\(inputRank.map(String.init) ?? "unknown") tensor does not keep the feature axis last")
            }
            return
        }
        guard node.inputs.count == 2, let shape = index.constant(node.inputs[1]), shape.elementType == .int64,
              shape.elementCount == 2, let last = shape.elements(as: Int64.self).last, last == Int64(features) else {
            throw Skip(.reshapeMovesFeatures, "the Reshape is not to a constant [rows, \(features)]")
        }
    }
}
