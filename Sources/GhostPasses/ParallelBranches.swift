import GhostIR

/// A sum of parallel branches over one input: the shape every re-parameterizable block exports to.
///
///     y = Add(Add(Conv₁(x), Conv₂(x)), BN(x))       (RepVGG: 3×3 + 1×1 + identity BN)
///     y = Add(BN(DWConv(x)), BN(x))                  (RepGhost, before BN folding)
///
/// The tree is the root Add plus every Add feeding it that nothing else reads; its leaves are the
/// branches. `input` is the value most leaves start from.
struct BranchSum {
    enum Branch: Equatable {
        /// `Conv(input, …)`, the node at this index.
        case conv(Int)
        /// `BatchNormalization(input, …)`.
        case batchNorm(Int)
        /// The input itself.
        case identity
        /// Anything else, with the reason it cannot join a merge.
        case foreign(Skip)

        /// A per-channel scaling of the input: becomes a 1×1 grouped Conv.
        var isIdentityLike: Bool {
            switch self {
            case .identity, .batchNorm: true
            case .conv, .foreign: false
            }
        }
    }

    struct Leaf: Equatable {
        let value: String
        let branch: Branch

        var isForeign: Bool {
            if case .foreign = branch { true } else { false }
        }
    }

    /// Add nodes of the tree; the root (whose output the merged node takes) is last.
    let adds: [Int]
    let input: String
    let leaves: [Leaf]

    var root: Int { adds[adds.count - 1] }

    var convIndices: [Int] {
        leaves.compactMap { if case .conv(let index) = $0.branch { index } else { nil } }
    }

    /// Whether the graph has an Add a sum could be rooted at (a pass finding none need not index
    /// the graph).
    static func mayExist(in graph: Graph) -> Bool {
        graph.nodes.contains(where: isAdd)
    }

    /// Every branch sum in the graph with at least two branches on a common input.
    ///
    /// A tree whose leaves include a foreign operand (typically a residual shortcut added to a
    /// re-parameterizable block's output) is split: its sub-trees are tried in its place, and the
    /// whole tree is reported only when no sub-tree is a clean site.
    static func find(in index: GraphIndex) -> [BranchSum] {
        var sums: [BranchSum] = []
        for (rootIndex, node) in index.graph.nodes.enumerated() where isAdd(node) {
            // Roots only: an Add whose sole reader is another Add belongs to that Add's tree.
            if let output = node.outputs.first, !index.graphOutputs.contains(output),
               let readers = index.consumers[output], readers.count == 1, isAdd(index.node(readers[0])) {
                continue
            }
            sums.append(contentsOf: sites(rootedAt: rootIndex, index: index))
        }
        return sums
    }

    /// The clean sites in the tree rooted at `root`, or the tree itself (to report why it is
    /// not one) when it has none.
    private static func sites(rootedAt root: Int, index: GraphIndex) -> [BranchSum] {
        var adds: [Int] = []
        var operands: [String] = []
        collect(root, index: index, adds: &adds, operands: &operands)
        let sum = classify(adds: adds, operands: operands, index: index)
        if let sum, !sum.leaves.contains(where: \.isForeign) { return [sum] }
        let children = index.node(root).inputs.compactMap { operand -> Int? in
            guard let (producerIndex, _) = index.producerNode(of: operand), adds.contains(producerIndex) else { return nil }
            return producerIndex
        }
        let clean = children.flatMap { sites(rootedAt: $0, index: index) }.filter { !$0.leaves.contains(where: \.isForeign) }
        if !clean.isEmpty { return clean }
        return sum.map { [$0] } ?? []
    }

    private static func isAdd(_ node: Node) -> Bool {
        node.isONNX("Add") && node.inputs.count == 2 && !node.inputs.contains("")
    }

    /// Depth-first over the tree, so operands come out in source order and the root comes last.
    private static func collect(_ addIndex: Int, index: GraphIndex, adds: inout [Int], operands: inout [String]) {
        for operand in index.node(addIndex).inputs {
            if let (producerIndex, producer) = index.producerNode(of: operand), isAdd(producer),
               !index.graphOutputs.contains(operand), index.consumers[operand] == [addIndex] {
                collect(producerIndex, index: index, adds: &adds, operands: &operands)
            } else {
                operands.append(operand)
            }
        }
        adds.append(addIndex)
    }

    private static func classify(adds: [Int], operands: [String], index: GraphIndex) -> BranchSum? {
        // The branches' start: each operand votes for its producer's first input and for itself.
        var occurrences: [String: Int] = [:]
        for operand in operands { occurrences[operand, default: 0] += 1 }
        var votes: [String: Int] = [:]
        for (operand, count) in occurrences {
            votes[operand, default: 0] += count
            if let (_, producer) = index.producerNode(of: operand),
               producer.isONNX("Conv") || producer.isONNX("BatchNormalization"), let start = producer.inputs.first {
                votes[start, default: 0] += count
            }
        }
        guard let (input, count) = votes.max(by: { ($0.value, $1.key) < ($1.value, $0.key) }), count >= 2 else { return nil }
        let tree = Set(adds)
        let leaves = operands.map { operand -> Leaf in
            if operand == input { return Leaf(value: operand, branch: .identity) }
            guard let (producerIndex, producer) = index.producerNode(of: operand) else {
                return Leaf(value: operand, branch: .foreign(Skip(.branchNotOnInput, "operand '\(operand)' is not computed from '\(input)'", status: .notMatched)))
            }
            let name = index.name(producerIndex)
            guard (producer.isONNX("Conv") || producer.isONNX("BatchNormalization")), producer.inputs.first == input else {
                return Leaf(value: operand, branch: .foreign(Skip(
                    .branchNotOnInput, "operand '\(operand)' comes from \(producer.opType) '\(name)', not a Conv or BatchNormalization on '\(input)'",
                    status: .notMatched, nodes: [name])))
            }
            let readers = index.consumers[operand] ?? []
            guard !index.graphOutputs.contains(operand), readers.allSatisfy(tree.contains) else {
                let others = readers.filter { !tree.contains($0) }.map(index.name).joined(separator: ", ")
                let skip = others.isEmpty
                    ? Skip(.outputIsGraphOutput, "\(name) output '\(operand)' is also a graph output", nodes: [name])
                    : Skip(.outputShared, "\(name) output also feeds \(others)", nodes: [name])
                return Leaf(value: operand, branch: .foreign(skip))
            }
            return Leaf(value: operand, branch: producer.isONNX("Conv") ? .conv(producerIndex) : .batchNorm(producerIndex))
        }
        return BranchSum(adds: adds, input: input, leaves: leaves)
    }
}
