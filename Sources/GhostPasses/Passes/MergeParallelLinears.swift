import GhostIR

/// `merge-parallel-linears`
///
/// **Given** a linear tree (Add, Sub, and Mul or Div by a constant, nothing else reading its
/// inner nodes) over at least two linear layers of one input x [N, K] —
/// `Gemm(x, Bᵢ, Cᵢ)` (transA = 0, any transB, alpha, beta) or `MatMul(x, Bᵢ)` with Bᵢ a constant
/// matrix — and constant leaves kⱼ, so that
///
///     y = Σᵢ cᵢ ⊙ (x · Wᵢ + bᵢ) + Σⱼ cⱼ ⊙ kⱼ       (Wᵢ = alphaᵢ·Bᵢ or its transpose [K, F])
///
/// with per-feature coefficients cᵢ (the constants of the Muls above the leaf, inverted for a
/// Div, negated for each Sub right operand),
/// **Result** `y = Gemm(x, W, b)` (transB = 1, W stored [F, K]) with
///
///     W = Σᵢ cᵢ ⊙ Wᵢ (per output feature),   b = Σᵢ cᵢ ⊙ bᵢ + Σⱼ cⱼ ⊙ kⱼ
///
/// because the product distributes over the sum. This is RepViT's and LeViT's classifier with a
/// distillation head, `(head(x) + head_dist(x)) / 2`, once the BatchNormalizations around each
/// Linear are folded.
///
/// **Conditions**: every leaf reads the same x; every B constant, float, of the same [K, F];
/// every C and coefficient one value or one per output feature (shape [F] or [1, F]); x of rank 2
/// when any leaf is a MatMul (a Gemm's input is rank 2 by definition); no division by a zero.
public struct MergeParallelLinears: RewriteRule {
    public let name = "merge-parallel-linears"
    let anchorOperators: Set<String> = ["Gemm", "MatMul"]

    public init() {}

    struct Leaf {
        let value: String
        var factor: [(value: String, inverted: Bool)] = []
        var sign: Double = 1
    }

    struct Site: RuleSite {
        let tree: [Int]
        let layers: [Int]
        let leaves: [Leaf]
        let input: String
        var anchor: Int { tree[tree.count - 1] }
        var claimed: [Int] { layers + tree }
    }

    struct Merged {
        let weight: [Double]  // [F, K], row-major
        let bias: [Double]
        let features: Int
        let inputs: Int
        let elementType: ElementType
    }

    // MARK: match

    func match(_ index: GraphIndex) -> [Site] {
        var sites: [Site] = []
        for (position, node) in index.graph.nodes.enumerated() where isTreeNode(node, index) {
            if let output = node.outputs.first, !index.isGraphOutput(output),
               let readers = index.consumers[output], readers.count == 1, isTreeNode(index.node(readers[0]), index) {
                continue  // an inner node of a larger tree
            }
            var tree: [Int] = [], leaves: [Leaf] = []
            collect(position, Leaf(value: ""), index, &tree, &leaves)
            var byInput: [String: Int] = [:]
            for leaf in leaves { if let input = layerInput(leaf.value, index) { byInput[input, default: 0] += 1 } }
            guard let (input, count) = byInput.max(by: { ($0.value, $1.key) < ($1.value, $0.key) }), count >= 2 else { continue }
            let layers = leaves.compactMap { leaf in layerInput(leaf.value, index) == input ? index.producerNode(of: leaf.value)?.index : nil }
            sites.append(Site(tree: tree, layers: layers, leaves: leaves, input: input))
        }
        return sites
    }

    private func isTreeNode(_ node: Node, _ index: GraphIndex) -> Bool {
        guard node.domain.isEmpty, node.inputs.count == 2, !node.inputs.contains("") else { return false }
        switch node.opType {
        case "Add", "Sub": return true
        case "Mul": return node.inputs.contains { index.constant($0) != nil }
        case "Div": return index.constant(node.inputs[1]) != nil && index.constant(node.inputs[0]) == nil
        default: return false
        }
    }

    /// The x of a Gemm/MatMul leaf, when the value is one.
    private func layerInput(_ value: String, _ index: GraphIndex) -> String? {
        guard let (_, node) = index.producerNode(of: value), node.isONNX("Gemm") || node.isONNX("MatMul") else { return nil }
        return node.inputs.first
    }

    private func collect(_ nodeIndex: Int, _ context: Leaf, _ index: GraphIndex, _ tree: inout [Int], _ leaves: inout [Leaf]) {
        let node = index.node(nodeIndex)
        var parts: [Leaf] = []
        switch node.opType {
        case "Mul":
            let constantSide = index.constant(node.inputs[1]) != nil ? 1 : 0
            var leaf = context
            leaf.factor.append((node.inputs[constantSide], false))
            parts = [Leaf(value: node.inputs[1 - constantSide], factor: leaf.factor, sign: leaf.sign)]
        case "Div":
            parts = [Leaf(value: node.inputs[0], factor: context.factor + [(node.inputs[1], true)], sign: context.sign)]
        default:
            parts = [Leaf(value: node.inputs[0], factor: context.factor, sign: context.sign),
                     Leaf(value: node.inputs[1], factor: context.factor, sign: node.opType == "Sub" ? -context.sign : context.sign)]
        }
        for part in parts {
            if let (producer, producerNode) = index.producerNode(of: part.value), isTreeNode(producerNode, index),
               !index.isGraphOutput(part.value), index.consumers[part.value] == [nodeIndex] {
                collect(producer, part, index, &tree, &leaves)
            } else {
                leaves.append(part)
            }
        }
        tree.append(nodeIndex)
    }

    // MARK: check

    func check(_ site: Site, _ index: GraphIndex) throws(Skip) -> Merged {
        let tree = Set(site.tree)
        var layers: [(leaf: Leaf, weight: [Double], bias: [Double], features: Int, inputs: Int, type: ElementType)] = []
        var constants: [Leaf] = []
        var hasMatMul = false
        for leaf in site.leaves {
            if index.constant(leaf.value) != nil {
                constants.append(leaf)
                continue
            }
            guard layerInput(leaf.value, index) == site.input, let (layerIndex, _) = index.producerNode(of: leaf.value) else {
                throw Skip(.branchNotOnInput, "operand '\(leaf.value)' is not a Gemm or MatMul of '\(site.input)'", status: .notMatched)
            }
            let name = index.name(layerIndex)
            let readers = index.consumers[leaf.value] ?? []
            guard !index.isGraphOutput(leaf.value), readers.allSatisfy(tree.contains) else {
                throw Skip(.outputShared, "\(name) output also feeds another node or the graph outputs", nodes: [name])
            }
            // The layer itself, as the linear folds read it (alpha, beta, transB absorbed).
            let linear = try LinearLayer.read(at: layerIndex, index: index, followBias: false)
            let (features, inputs, type) = (linear.outFeatures, linear.inFeatures, linear.elementType)
            var weight = [Double](repeating: 0, count: features * inputs)  // [F, K]
            for k in 0..<inputs {
                for o in 0..<features { weight[o * inputs + k] = linear.weight[k * features + o] }
            }
            let bias = linear.bias ?? Array(repeating: 0, count: features)
            if let reference = layers.first, (reference.features, reference.inputs) != (features, inputs) {
                throw Skip(.weightShapeDiffers, "\(name) maps \(inputs) to \(features) features, its sibling \(reference.inputs) to \(reference.features)",
                           nodes: [name])
            }
            hasMatMul = hasMatMul || index.node(layerIndex).isONNX("MatMul")
            layers.append((leaf, weight, bias, features, inputs, type))
        }
        guard let reference = layers.first else { throw Skip(.noConvBranch, "no operand is a linear layer") }
        if hasMatMul, index.shape(of: site.input)?.count != 2 {
            throw Skip(.linearInputRank, "'\(site.input)' is not declared rank 2, which one Gemm needs")
        }
        let (features, inputs) = (reference.features, reference.inputs)
        var weight = [Double](repeating: 0, count: features * inputs)
        var bias = [Double](repeating: 0, count: features)
        for layer in layers {
            let factor = try coefficient(layer.leaf, features: features, index)
            for o in 0..<features {
                for k in 0..<inputs { weight[o * inputs + k] += factor[o] * layer.weight[o * inputs + k] }
                bias[o] += factor[o] * layer.bias[o]
            }
        }
        for leaf in constants {
            let values = try perFeature(leaf.value, features: features, index)
            let factor = try coefficient(leaf, features: features, index)
            for o in 0..<features { bias[o] += factor[o] * values[o] }
        }
        return Merged(weight: weight, bias: bias, features: features, inputs: inputs, elementType: reference.type)
    }

    private func coefficient(_ leaf: Leaf, features: Int, _ index: GraphIndex) throws(Skip) -> [Double] {
        var factor = [Double](repeating: leaf.sign, count: features)
        for (value, inverted) in leaf.factor {
            let values = try perFeature(value, features: features, index)
            for o in 0..<features {
                if inverted {
                    guard values[o] != 0 else { throw Skip(.divisorHasZero, "the divisor '\(value)' has a zero") }
                    factor[o] /= values[o]
                } else {
                    factor[o] *= values[o]
                }
            }
        }
        return factor
    }

    /// A constant with one value, or one per output feature (shape [F] or [1, F]).
    private func perFeature(_ value: String, features: Int, _ index: GraphIndex) throws(Skip) -> [Double] {
        guard let constant = index.constant(value) else { throw Skip(.operandNotConstant, "'\(value)' is not a constant") }
        guard constant.elementType.isFloatingPoint else {
            throw Skip(.constantNotFloatingPoint, "the constant '\(value)' is \(constant.elementType), not floating point")
        }
        let values = constant.doubleValues()
        if values.count == 1 { return Array(repeating: values[0], count: features) }
        guard values.count == features, constant.shape.last == features, constant.shape.count <= 2 else {
            throw Skip(.constantNotPerChannel, "the constant '\(value)' has shape \(constant.shape), not one value per feature of \(features)")
        }
        return values
    }

    // MARK: rewrite

    func rewrite(_ site: Site, _ merged: Merged, _ index: GraphIndex, _ editor: inout GraphEditor) throws(PassError) -> [Rewrite] {
        let first = index.node(site.layers[0])
        let weight: Tensor, bias: Tensor
        do {
            if merged.elementType == .float64 {
                weight = try Tensor(float64: merged.weight, shape: [merged.features, merged.inputs])
                bias = try Tensor(float64: merged.bias, shape: [merged.features])
            } else {
                weight = try Tensor(float32: merged.weight.map { Float($0) }, shape: [merged.features, merged.inputs])
                bias = try Tensor(float32: merged.bias.map { Float($0) }, shape: [merged.features])
            }
        } catch {
            throw .invalidTensor(pass: name, node: first.name, problem: "\(error)")
        }
        let weightName = editor.addInitializer(weight, preferredName: "\(first.name).weight")
        let biasName = editor.addInitializer(bias, preferredName: "\(first.name).bias")
        let nodes = site.claimed
        let gemm = Node(name: first.name, opType: "Gemm", inputs: [site.input, weightName, biasName],
                        outputs: [index.node(site.anchor).outputs[0]],
                        attributes: [Attribute(name: "transB", value: .int(1))],
                        fusedFrom: nodes.flatMap { provenance(index.node($0)) })
        let rewrite = Rewrite(replaced: nodes, result: gemm.name, in: index)
        editor.replace(nodes, with: gemm)
        return [rewrite]
    }
}
