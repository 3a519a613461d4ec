import GhostIR

/// A sum of parallel branches over one input: the shape every re-parameterizable block exports to.
///
///     y = Add(Add(Conv₁(x), Conv₂(x)), BN(x))       (RepVGG: 3×3 + 1×1 + identity BN)
///     y = Add(BN(DWConv(x)), BN(x))                  (RepGhost, before BN folding)
///     y = Add(x, Mul(γ, Sub(BN(DWConv(x)), BN(x))))  (FastViT's RepMixer)
///
/// The tree is the root plus every Add, Sub, and Mul by a constant feeding it that nothing else
/// reads. Its algebra is linear: a leaf's *coefficient* is the product of the constants of the
/// Muls above it, negated once for every Sub whose right operand holds it, so
///
///     y = Σᵢ cᵢ ⊙ branchᵢ(x) + Σⱼ cⱼ ⊙ kⱼ
///
/// over branches (Conv, BatchNormalization or the identity of x) and constant leaves kⱼ (which
/// join the merged bias; a zero one, as exporters leave for an absent branch, adds nothing).
/// `input` is the value most leaves start from.
struct BranchSum {
    enum Branch: Equatable {
        /// `Conv(input, …)`, the node at this index.
        case conv(Int)
        /// `BatchNormalization(input, …)`.
        case batchNorm(Int)
        /// The input itself.
        case identity
        /// A constant added to the sum (an initializer or a Constant node's output).
        case constant
        /// Anything else, with the reason it cannot join a merge.
        case foreign(Skip)

        /// A per-channel scaling of the input: becomes a 1×1 grouped Conv.
        var isIdentityLike: Bool {
            switch self {
            case .identity, .batchNorm: true
            case .conv, .constant, .foreign: false
            }
        }
    }

    struct Leaf: Equatable {
        let value: String
        let branch: Branch
        /// −1 when an odd number of Subs take this leaf as their right operand.
        var sign: Double = 1
        /// The constants (by value name) of the Muls above the leaf, innermost first.
        var scales: [String] = []

        var isForeign: Bool {
            if case .foreign = branch { true } else { false }
        }

        /// Whether the leaf's coefficient is exactly +1.
        var isPlain: Bool { sign == 1 && scales.isEmpty }
    }

    /// Add, Sub and Mul nodes of the tree; the root (whose output the merged node takes) is last.
    let tree: [Int]
    let input: String
    let leaves: [Leaf]

    var root: Int { tree[tree.count - 1] }

    var convIndices: [Int] {
        leaves.compactMap { if case .conv(let index) = $0.branch { index } else { nil } }
    }


    /// Every branch sum in the graph with at least two branches on a common input.
    ///
    /// A tree whose leaves include a foreign operand (typically a residual shortcut added to a
    /// re-parameterizable block's output) is split: its sub-trees are tried in its place, and the
    /// whole tree is reported only when no sub-tree is a clean site.
    static func find(in index: GraphIndex) -> [BranchSum] {
        var sums: [BranchSum] = []
        for (rootIndex, node) in index.graph.nodes.enumerated() where isAdd(node) || isSub(node) || scaleOperand(of: node, index: index) != nil {
            // Roots only: a node whose sole reader is another tree node belongs to that tree.
            if let output = node.outputs.first, !index.graphOutputs.contains(output),
               let readers = index.consumers[output], readers.count == 1, isTreeNode(index.node(readers[0]), index: index) {
                continue
            }
            sums.append(contentsOf: sites(rootedAt: rootIndex, index: index))
        }
        return sums
    }

    /// The clean sites in the tree rooted at `root`, or the tree itself (to report why it is
    /// not one) when it has none.
    private static func sites(rootedAt root: Int, index: GraphIndex) -> [BranchSum] {
        var tree: [Int] = []
        var operands: [Leaf] = []
        collect(root, sign: 1, scales: [], index: index, tree: &tree, operands: &operands)
        let sum = classify(tree: tree, operands: operands, index: index)
        if let sum, !sum.leaves.contains(where: \.isForeign) { return [sum] }
        let treeSet = Set(tree)
        let children = index.node(root).inputs.compactMap { operand -> Int? in
            guard let (producerIndex, _) = index.producerNode(of: operand), treeSet.contains(producerIndex) else { return nil }
            return producerIndex
        }
        let clean = children.flatMap { sites(rootedAt: $0, index: index) }.filter { !$0.leaves.contains(where: \.isForeign) }
        if !clean.isEmpty { return clean }
        return sum.map { [$0] } ?? []
    }

    private static func isAdd(_ node: Node) -> Bool {
        node.isONNX("Add") && node.inputs.count == 2 && !node.inputs.contains("")
    }

    private static func isSub(_ node: Node) -> Bool {
        node.isONNX("Sub") && node.inputs.count == 2 && !node.inputs.contains("")
    }

    /// For `Mul(v, c)` or `Mul(c, v)` with c a floating-point constant and v not one: the
    /// position of v.
    private static func scaleOperand(of node: Node, index: GraphIndex) -> Int? {
        guard node.isONNX("Mul"), node.inputs.count == 2, !node.inputs.contains("") else { return nil }
        let constant = node.inputs.map { index.constant($0).map(\.elementType.isFloatingPoint) == true }
        switch (constant[0], constant[1]) {
        case (false, true): return 0
        case (true, false): return 1
        default: return nil
        }
    }

    private static func isTreeNode(_ node: Node, index: GraphIndex) -> Bool {
        isAdd(node) || isSub(node) || scaleOperand(of: node, index: index) != nil
    }

    /// Depth-first over the tree, so operands come out in source order and the root comes last.
    private static func collect(_ nodeIndex: Int, sign: Double, scales: [String], index: GraphIndex,
                                tree: inout [Int], operands: inout [Leaf]) {
        let node = index.node(nodeIndex)
        var parts: [(value: String, sign: Double, scales: [String])]
        if let position = scaleOperand(of: node, index: index) {
            parts = [(node.inputs[position], sign, scales + [node.inputs[1 - position]])]
        } else {
            parts = [(node.inputs[0], sign, scales), (node.inputs[1], isSub(node) ? -sign : sign, scales)]
        }
        for part in parts {
            if let (producerIndex, producer) = index.producerNode(of: part.value), isTreeNode(producer, index: index),
               !index.graphOutputs.contains(part.value), index.consumers[part.value] == [nodeIndex] {
                collect(producerIndex, sign: part.sign, scales: part.scales, index: index, tree: &tree, operands: &operands)
            } else {
                operands.append(Leaf(value: part.value, branch: .identity, sign: part.sign, scales: part.scales))
            }
        }
        tree.append(nodeIndex)
    }

    /// `operands` carry their coefficients; their branches are decided here, once the common
    /// input is known.
    private static func classify(tree: [Int], operands: [Leaf], index: GraphIndex) -> BranchSum? {
        // The branches' start: each operand votes for its producer's first input and for itself.
        var occurrences: [String: Int] = [:]
        for operand in operands where index.constant(operand.value) == nil { occurrences[operand.value, default: 0] += 1 }
        var votes: [String: Int] = [:]
        for (operand, count) in occurrences {
            votes[operand, default: 0] += count
            if let (_, producer) = index.producerNode(of: operand),
               producer.isONNX("Conv") || producer.isONNX("BatchNormalization"), let start = producer.inputs.first {
                votes[start, default: 0] += count
            }
        }
        guard let (input, count) = votes.max(by: { ($0.value, $1.key) < ($1.value, $0.key) }), count >= 2 else { return nil }
        let treeSet = Set(tree)
        let leaves = operands.map { operand in
            Leaf(value: operand.value, branch: branch(of: operand.value, input: input, tree: treeSet, index: index),
                 sign: operand.sign, scales: operand.scales)
        }
        return BranchSum(tree: tree, input: input, leaves: leaves)
    }

    private static func branch(of operand: String, input: String, tree: Set<Int>, index: GraphIndex) -> Branch {
        if operand == input { return .identity }
        if index.constant(operand) != nil { return .constant }
        guard let (producerIndex, producer) = index.producerNode(of: operand) else {
            return .foreign(Skip(.branchNotOnInput, "operand '\(operand)' is not computed from '\(input)'", status: .notMatched))
        }
        let name = index.name(producerIndex)
        guard (producer.isONNX("Conv") || producer.isONNX("BatchNormalization")), producer.inputs.first == input else {
            return .foreign(Skip(
                .branchNotOnInput, "operand '\(operand)' comes from \(producer.opType) '\(name)', not a Conv or BatchNormalization on '\(input)'",
                status: .notMatched, nodes: [name]))
        }
        let readers = index.consumers[operand] ?? []
        guard !index.graphOutputs.contains(operand), readers.allSatisfy(tree.contains) else {
            let others = readers.filter { !tree.contains($0) }.map(index.name).joined(separator: ", ")
            return .foreign(others.isEmpty
                ? Skip(.outputIsGraphOutput, "\(name) output '\(operand)' is also a graph output", nodes: [name])
                : Skip(.outputShared, "\(name) output also feeds \(others)", nodes: [name]))
        }
        return producer.isONNX("Conv") ? .conv(producerIndex) : .batchNorm(producerIndex)
    }
}
