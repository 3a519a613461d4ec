import GhostIR

/// `fold-affine-into-linear`
///
/// **Given** a linear layer y = x·W + b (see `fold-batchnorm-into-linear`) and a `Mul`, `Add`,
/// `Sub` or `Div` by a constant c holding one value per feature (shape [F] or [1, …, F], or a
/// single value) on the last axis, either after it (on y, F = N) or before it (on x, F = K),
/// **Result** one linear layer with the map v ↦ s ⊙ v + t folded in:
///
///     Mul (s = c, t = 0)   Add (1, c)   Sub v − c: (1, −c)   c − v: (−1, c)   Div v / c: (1/c, 0)
///     after:   W'[k, n] = W[k, n]·s[n],   b' = s ⊙ b + t
///     before:  W'[k, n] = s[k]·W[k, n],   b' = b + Σ_k t[k]·W[k, n]
///
/// **Conditions**: c constant and floating point, no zero divisor, c / v refused (not affine);
/// c no longer than the operand's rank (it would broadcast the result); the values between
/// have no other reader. A constant `Add` right after a bare MatMul is that layer's bias, not
/// a site, and neither is a product of two computed values (attention's q·kᵀ). Float64,
/// rounded once.
public struct FoldAffineIntoLinear: RewriteRule {
    public let name = "fold-affine-into-linear"
    let anchorOperators: Set<String> = ["Mul", "Add", "Sub", "Div"]

    public init() {}

    func match(_ index: GraphIndex) -> [LinearFoldSite] {
        let nodes = index.graph.nodes
        return nodes.indices.compactMap { position in
            // The operand count first: it rules out most nodes without hashing their op type.
            guard nodes[position].inputs.count == 2, nodes[position].domain.isEmpty, anchorOperators.contains(nodes[position].opType) else { return nil }
            // The constant operand by the ids the index gave the inputs: no name hashed.
            guard let constantSide = (0..<2).first(where: { index.constantInput($0, ofNode: position) != nil }),
                  index.constantInput(1 - constantSide, ofNode: position) == nil else { return nil }
            let op = nodes[position]
            guard let output = op.outputs.first else { return nil }
            // Add(MatMul(x), c) is the layer's own bias.
            let isBias = op.isONNX("Add") && LinearLayer.biasOperand(of: op, index: index) != nil
            guard let site = LinearFoldSite.find(anchor: position, operand: op.inputs[1 - constantSide], output: output, index: index, allowAfter: !isBias),
                  LinearLayer.hasConstantWeight(mainNode(of: site, index: index), index: index) else { return nil }
            return site
        }
    }

    /// The site's Gemm or MatMul (the producer of a bias Add's product).
    private func mainNode(of site: LinearFoldSite, index: GraphIndex) -> Int {
        let position: Int
        switch site.side {
        case .after(let end, _): position = end
        case .before(let main): position = main
        }
        let node = index.node(position)
        if node.isONNX("Add"), let side = LinearLayer.biasOperand(of: node, index: index),
           let (product, _) = index.producerNode(of: node.inputs[1 - side]) {
            return product
        }
        return position
    }

    func check(_ site: LinearFoldSite, _ index: GraphIndex) throws(Skip) -> LinearLayer {
        let op = index.node(site.anchor)
        let constantSide = index.constant(op.inputs[0]) != nil ? 0 : 1
        guard let constant = index.constant(op.inputs[constantSide]) else { throw Skip(.operandNotConstant, "the other operand is not a constant") }
        return try site.fold(index: index, operand: op.inputs[1 - constantSide], featureAxisIsLast: true) { features, rank throws(Skip) in
            let c = try LinearLayer.perFeature(constant, features: features, operandRank: rank, role: "constant")
            let ones = [Double](repeating: 1, count: features), zeros = [Double](repeating: 0, count: features)
            switch (op.opType, constantSide == 1) {
            case ("Mul", _): return (c, zeros)
            case ("Add", _): return (ones, c)
            case ("Sub", true): return (ones, c.map { -$0 })
            case ("Sub", false): return (ones.map { -$0 }, c)
            case ("Div", true):
                guard c.allSatisfy({ $0 != 0 }) else { throw Skip(.divisorHasZero, "the divisor has a zero") }
                return (c.map { 1 / $0 }, zeros)
            default:
                throw Skip(.linearIsDivisor, "the linear layer's operand is the divisor, which is not affine")
            }
        }
    }

    func rewrite(_ site: LinearFoldSite, _ layer: LinearLayer, _ index: GraphIndex, _ editor: inout GraphEditor) throws(PassError) -> [Rewrite] {
        try site.rewrite(layer, index: index, editor: &editor, pass: name)
    }
}
