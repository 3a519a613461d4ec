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
    ///
    /// Three rules call this per sweep on every Add of the graph, so a tree costs no hash of a
    /// name: values are reached through the ids the index gave each node's inputs and first
    /// output, each operand's producer is found once (while collecting) and carried to the
    /// classification, nodes are read in place (no copy of each), and a small tree's votes and
    /// membership are arrays searched linearly (a RepVGG block has three operands, two Adds).
    /// Each root's trees are a function of the index alone, so a large graph's roots are searched
    /// in chunks on every core (`Chunked`), joined in node order.
    static func find(in index: GraphIndex, threads: Int = Chunked.cores) -> [BranchSum] {
        let nodes = index.graph.nodes
        return Chunked.flatMap(nodes.count, minimum: concurrentSearchThreshold, threads: threads) { range in
            var sums: [BranchSum] = []
            for rootIndex in range where isTreeNode(rootIndex, index: index) {
                // Roots only: a node whose sole reader is another tree node belongs to that tree.
                if let output = nodes[rootIndex].outputs.first, !index.isGraphOutput(output),
                   let id = index.firstOutputID(ofNode: rootIndex),
                   let readers = index.readers(id: id), readers.count == 1, isTreeNode(readers[0], index: index) {
                    continue
                }
                sums.append(contentsOf: sites(rootedAt: rootIndex, index: index))
            }
            return sums
        }
    }

    /// Nodes from which `find` splits its search between threads.
    static let concurrentSearchThreshold = 8192

    /// A leaf as collected, with its producer (nil for a graph input or an initializer) and its
    /// id in the index.
    private struct Operand {
        let leaf: Leaf
        let producer: Int?
        let id: Int
    }

    /// The clean sites in the tree rooted at `root`, or the tree itself (to report why it is
    /// not one) when it has none.
    private static func sites(rootedAt root: Int, index: GraphIndex) -> [BranchSum] {
        var tree: [Int] = []
        var operands: [Operand] = []
        collect(root, sign: 1, scales: [], index: index, tree: &tree, operands: &operands)
        let sum = classify(tree: tree, operands: operands, index: index)
        if let sum, !sum.leaves.contains(where: \.isForeign) { return [sum] }
        let inTree = Membership(tree)
        let children = index.inputIDs(ofNode: root).compactMap { id -> Int? in
            guard let producerIndex = index.producer(id: Int(id)), inTree.contains(producerIndex) else { return nil }
            return producerIndex
        }
        let clean = children.flatMap { sites(rootedAt: $0, index: index) }.filter { !$0.leaves.contains(where: \.isForeign) }
        if !clean.isEmpty { return clean }
        return sum.map { [$0] } ?? []
    }

    /// Two operands, neither omitted.
    private static func isBinary(_ inputs: [String]) -> Bool {
        inputs.count == 2 && !inputs.contains("")
    }

    /// For `Mul(v, c)` or `Mul(c, v)` (the node at `position`) with c a floating-point constant
    /// and v not one: the position of v.
    private static func scaleOperand(of position: Int, index: GraphIndex) -> Int? {
        let nodes = index.graph.nodes
        guard nodes[position].domain.isEmpty, nodes[position].opType == "Mul" else { return nil }
        let inputs = nodes[position].inputs
        guard isBinary(inputs) else { return nil }
        let first = index.constantInput(0, ofNode: position).map(\.elementType.isFloatingPoint) == true
        let second = index.constantInput(1, ofNode: position).map(\.elementType.isFloatingPoint) == true
        switch (first, second) {
        case (false, true): return 0
        case (true, false): return 1
        default: return nil
        }
    }

    /// A two-operand Add or Sub, or a Mul by a constant. Nodes are read field by field, by
    /// position: passing a node copies it (its eight references), and this runs on every node.
    private static func isTreeNode(_ position: Int, index: GraphIndex) -> Bool {
        let nodes = index.graph.nodes
        guard nodes[position].domain.isEmpty else { return false }
        switch nodes[position].opType {
        case "Add", "Sub": return isBinary(nodes[position].inputs)
        case "Mul": return scaleOperand(of: position, index: index) != nil
        default: return false
        }
    }

    /// `index.constant(value) != nil` for a value whose producer is known: an initializer, or
    /// the output of a Constant node holding a value (decided by `constant`, which is rare).
    private static func isConstant(_ value: String, id: Int, producer: Int?, index: GraphIndex) -> Bool {
        if index.lookup(id: id).slot >= 0 { return true }
        guard let producer, index.graph.nodes[producer].isONNX("Constant") else { return false }
        return index.constant(value) != nil
    }

    /// Depth-first over the tree, so operands come out in source order and the root comes last.
    private static func collect(_ nodeIndex: Int, sign: Double, scales: [String], index: GraphIndex,
                                tree: inout [Int], operands: inout [Operand]) {
        let inputs = index.graph.nodes[nodeIndex].inputs
        // A tree node has two present operands (`isBinary`), so its two ids are its inputs'.
        let ids = index.inputIDs(ofNode: nodeIndex)
        let id = { (k: Int) in Int(ids[ids.startIndex + k]) }
        if let position = scaleOperand(of: nodeIndex, index: index) {
            visit(inputs[position], id: id(position), sign: sign, scales: scales + [inputs[1 - position]], reader: nodeIndex,
                  index: index, tree: &tree, operands: &operands)
        } else {
            // A tree node that is no Mul is an Add or a Sub (of the default domain).
            let isSub = index.graph.nodes[nodeIndex].opType == "Sub"
            visit(inputs[0], id: id(0), sign: sign, scales: scales, reader: nodeIndex, index: index, tree: &tree, operands: &operands)
            visit(inputs[1], id: id(1), sign: isSub ? -sign : sign, scales: scales, reader: nodeIndex,
                  index: index, tree: &tree, operands: &operands)
        }
        tree.append(nodeIndex)
    }

    /// One operand of the tree node `reader`: a sub-tree when it is a tree node only `reader`
    /// reads, else a leaf.
    private static func visit(_ value: String, id: Int, sign: Double, scales: [String], reader: Int, index: GraphIndex,
                              tree: inout [Int], operands: inout [Operand]) {
        let producer = index.producer(id: id)
        if let producer, isTreeNode(producer, index: index), !index.isGraphOutput(value),
           let readers = index.readers(id: id), readers.count == 1, readers[0] == reader {
            collect(producer, sign: sign, scales: scales, index: index, tree: &tree, operands: &operands)
        } else {
            operands.append(Operand(leaf: Leaf(value: value, branch: .identity, sign: sign, scales: scales), producer: producer, id: id))
        }
    }

    /// `operands` carry their coefficients; their branches are decided here, once the common
    /// input is known.
    private static func classify(tree: [Int], operands: [Operand], index: GraphIndex) -> BranchSum? {
        // The branches' start: each operand votes for its producer's first input and for itself.
        let constant = operands.map { isConstant($0.leaf.value, id: $0.id, producer: $0.producer, index: index) }
        var occurrences = Tally()
        for (position, operand) in operands.enumerated() where !constant[position] {
            occurrences.add(operand.leaf.value, 1, first: position)
        }
        var votes = Tally()
        for entry in occurrences.entries {
            votes.add(entry.key, entry.count, first: 0)
            if let producer = operands[entry.first].producer, isBranchStart(producer, index: index),
               let start = index.graph.nodes[producer].inputs.first {
                votes.add(start, entry.count, first: 0)
            }
        }
        // The most votes; among equals, the least name (as a dictionary's `max` with this order).
        guard let winner = votes.entries.max(by: { ($0.count, $1.key) < ($1.count, $0.key) }), winner.count >= 2 else { return nil }
        let input = winner.key
        let inTree = Membership(tree)
        let leaves = operands.indices.map { position in
            let operand = operands[position]
            return Leaf(value: operand.leaf.value,
                        branch: branch(of: operand.leaf.value, id: operand.id, producer: operand.producer,
                                       isConstant: constant[position], input: input, tree: inTree, index: index),
                        sign: operand.leaf.sign, scales: operand.leaf.scales)
        }
        return BranchSum(tree: tree, input: input, leaves: leaves)
    }

    private static func branch(of operand: String, id: Int, producer: Int?, isConstant: Bool, input: String, tree: Membership,
                               index: GraphIndex) -> Branch {
        if operand == input { return .identity }
        if isConstant { return .constant }
        guard let producerIndex = producer else {
            return .foreign(Skip(.branchNotOnInput, "operand '\(operand)' is not computed from '\(input)'", status: .notMatched))
        }
        guard isBranchStart(producerIndex, index: index), index.graph.nodes[producerIndex].inputs.first == input else {
            let name = index.name(producerIndex)
            return .foreign(Skip(
                .branchNotOnInput,
                "operand '\(operand)' comes from \(index.graph.nodes[producerIndex].opType) '\(name)', not a Conv or BatchNormalization on '\(input)'",
                status: .notMatched, nodes: [name]))
        }
        let readers = index.readers(id: id) ?? []
        guard !index.isGraphOutput(operand), readers.allSatisfy(tree.contains) else {
            let name = index.name(producerIndex)
            let others = readers.filter { !tree.contains($0) }.map(index.name).joined(separator: ", ")
            return .foreign(others.isEmpty
                ? Skip(.outputIsGraphOutput, "\(name) output '\(operand)' is also a graph output", nodes: [name])
                : Skip(.outputShared, "\(name) output also feeds \(others)", nodes: [name]))
        }
        return index.graph.nodes[producerIndex].opType == "Conv" ? .conv(producerIndex) : .batchNorm(producerIndex)
    }

    /// A Conv or BatchNormalization of the default domain: what a branch starts with.
    private static func isBranchStart(_ position: Int, index: GraphIndex) -> Bool {
        let nodes = index.graph.nodes
        return nodes[position].domain.isEmpty && (nodes[position].opType == "Conv" || nodes[position].opType == "BatchNormalization")
    }
}

/// Counts per name in first-seen order, with the position of the first occurrence: an array
/// searched linearly while small (a block's sum has a handful of operands), with a dictionary of
/// positions once it grows past 16 names (a wide Add tree stays linear).
private struct Tally {
    private(set) var entries: [(key: String, count: Int, first: Int)] = []
    private var positions: [String: Int]?

    mutating func add(_ key: String, _ count: Int, first: Int) {
        if let found = position(of: key) {
            entries[found].count += count
            return
        }
        entries.append((key, count, first))
        if positions != nil {
            positions?[key] = entries.count - 1
        } else if entries.count > 16 {
            var table: [String: Int] = [:]
            for (position, entry) in entries.enumerated() { table[entry.key] = position }
            positions = table
        }
    }

    private func position(of key: String) -> Int? {
        if let positions { return positions[key] }
        return entries.firstIndex { $0.key == key }
    }
}

/// Whether a node is one of a tree's: a linear search of a small tree, a set for a large one.
private struct Membership {
    private let members: [Int]
    private let set: Set<Int>?

    init(_ members: [Int]) {
        self.members = members
        set = members.count > 16 ? Set(members) : nil
    }

    func contains(_ member: Int) -> Bool {
        if let set { return set.contains(member) }
        return members.contains(member)
    }
}
