import GhostIR

/// Chooses mutation sites in a fused graph, deterministically from a seed, preferring sites where
/// the mutant changes what the graph computes: a Conv weight that is not all zeros, a bias that is
/// not zero, two output kernels (or input channels) that differ, an activation whose replacement
/// differs on the values seen, a node that reaches an output. A mutant that would change nothing
/// (`equivalence(of:)` gives the reason) is only returned when every site of its kind is one, so
/// that the report can say so rather than count a miss.
///
/// Sites are the live nodes in topological order, shuffled by SplitMix64 seeded with
/// `seed` ⊕ FNV-1a(kind): the same graph and seed give the same mutants on every machine.
public struct MutantPicker: Sendable {
    public let graph: Graph
    public let seed: UInt64
    /// The range each value took over the samples (graph inputs and node outputs), when known:
    /// it decides, e.g., whether Relu6 differs from Relu anywhere the samples reach.
    public let ranges: [String: ValueRange]
    /// Per channel (axis 1) of each value, when known: a Conv input channel that is 0 on every
    /// sample makes the weights reading it irrelevant there.
    public let channelRanges: [String: [ValueRange]]
    private let live: Set<String>
    private let order: [Node]

    public init(graph: Graph, seed: UInt64 = 0, ranges: [String: ValueRange] = [:], channelRanges: [String: [ValueRange]] = [:]) {
        self.graph = graph
        self.seed = seed
        self.ranges = ranges
        self.channelRanges = channelRanges
        live = GraphReach(graph).live()
        order = ((try? graph.topologicallySortedNodes()) ?? graph.nodes).filter { !$0.name.isEmpty }
    }

    /// What the picker found for one kind: up to `count` mutants at distinct nodes, or why there
    /// is no site at all.
    public struct Pick: Equatable, Sendable {
        public var mutants: [Mutant]
        public var noSite: String?

        public init(mutants: [Mutant], noSite: String? = nil) {
            self.mutants = mutants
            self.noSite = noSite
        }
    }

    public func pick(_ kind: Mutant.Kind, count: Int = 1) -> Pick {
        var random = SplitMix64(seed: seed ^ Self.fnv1a(kind.rawValue))
        var sites = order.filter { live.contains($0.name) }
        random.shuffle(&sites)
        var chosen: [Mutant] = [], fallback: Mutant?
        var eligible = 0
        for node in sites {
            if chosen.count >= count { break }
            guard let mutant = candidate(kind, at: node, random: &random) else { continue }
            eligible += 1
            if equivalence(of: mutant) == nil {
                chosen.append(mutant)
            } else if fallback == nil {
                fallback = mutant
            }
        }
        if chosen.isEmpty, let fallback { chosen = [fallback] }
        return Pick(mutants: chosen, noSite: eligible == 0 ? noSiteReason(kind) : nil)
    }

    /// Why `mutant` cannot change the graph's outputs, if that is known without running it: an
    /// identity by construction (identical kernels, a zero bias, factor 1), a dead branch, or an
    /// activation swap that agrees on every value the samples reach.
    public func equivalence(of mutant: Mutant) -> String? {
        guard let node = graph.nodes.first(where: { $0.name == mutant.node }) else { return nil }
        if !live.contains(node.name) { return "in a dead branch: no graph output depends on '\(node.name)'" }
        switch mutant {
        case .scaleWeight(_, let input, let factor):
            if factor == 1 { return "the factor is 1" }
            guard let (_, weight) = try? GraphEdit.weight(of: node, input: input, in: graph) else { return nil }
            if weight.doubleValues().allSatisfy({ $0 == 0 }) { return "the weight is all zeros" }
        case .zeroBias:
            guard let (_, bias) = try? GraphEdit.weight(of: node, input: 2, in: graph) else { return nil }
            if bias.doubleValues().allSatisfy({ $0 == 0 }) { return "the bias is already zero" }
        case .swapKernels(_, let first, let second):
            if first == second { return "a kernel swapped with itself" }
            guard let (_, weight) = try? GraphEdit.weight(of: node, input: 1, in: graph),
                  let same = Self.slicesEqual(weight, axis: 0, first, second) else { return nil }
            if same { return "identical kernels: output kernels \(first) and \(second) hold the same weights" }
        case .permuteChannel(_, let first, let second):
            if first == second { return "a channel swapped with itself" }
            guard let (_, weight) = try? GraphEdit.weight(of: node, input: 1, in: graph),
                  let same = Self.slicesEqual(weight, axis: 1, first, second) else { return nil }
            if same { return "identical input channels: every kernel weighs channels \(first) and \(second) alike" }
            if silent(channels: [first, second], of: node) {
                return "input channels \(first) and \(second) are 0 on every sample, so their weights do not matter there"
            }
        case .swapActivation(_, let from, let to):
            if from == to { return "the same activation" }
            if let range = ranges[node.inputs[0]] { return from.agreement(with: to, on: range) }
        case .changeEpsilon(_, let from, let to):
            if from == to { return "the same epsilon" }
        }
        return nil
    }

    private func candidate(_ kind: Mutant.Kind, at node: Node, random: inout SplitMix64) -> Mutant? {
        switch kind {
        case .scaleWeight:
            guard node.isONNX("Conv"), convWeight(node) != nil else { return nil }
            return .scaleWeight(node: node.name, input: 1, factor: 1 + 1e-4)
        case .zeroBias:
            guard node.isONNX("Conv"), convWeight(node) != nil,
                  (try? GraphEdit.weight(of: node, input: 2, in: graph)) != nil else { return nil }
            return .zeroBias(node: node.name)
        case .swapKernels, .permuteChannel:
            guard node.isONNX("Conv"), let weight = convWeight(node) else { return nil }
            let axis = kind == .swapKernels ? 0 : 1
            guard weight.shape[axis] >= 2 else { return nil }
            let (first, second) = axis == 0 ? Self.differingPair(weight, axis: axis, random: &random)
                : Self.differingPair(weight, axis: axis, random: &random) { !silent(channels: [$0, $1], of: node) }
            return kind == .swapKernels ? .swapKernels(node: node.name, first: first, second: second)
                : .permuteChannel(node: node.name, first: first, second: second)
        case .swapActivation:
            guard let from = Activation.of(node, in: graph) else { return nil }
            let alternatives = from.confusions
            let range = ranges[node.inputs[0]]
            let to = alternatives.first { alternative in range.map { from.agreement(with: alternative, on: $0) == nil } ?? true }
                ?? alternatives[0]
            return .swapActivation(node: node.name, from: from, to: to)
        case .changeEpsilon:
            guard node.domain.isEmpty, GraphEdit.normalizations.contains(node.opType) else { return nil }
            let epsilon = Double(node.attribute("epsilon")?.floatValue ?? 1e-5)
            // The classic mix-up: Keras' default 1e-3 for PyTorch's 1e-5, and back.
            return .changeEpsilon(node: node.name, from: epsilon, to: epsilon < 1e-4 ? 1e-3 : 1e-5)
        }
    }

    /// Whether the weight's input channels `channels` (within each group) read only zeros on the
    /// samples, in every group. Unknown ranges are not silent.
    private func silent(channels: [Int], of node: Node) -> Bool {
        guard let perChannel = channelRanges[node.inputs[0]], let weight = convWeight(node) else { return false }
        let groupWidth = weight.shape[1]
        let groups = max(Int(node.attribute("group")?.intValue ?? 1), 1)
        for group in 0..<groups {
            for channel in channels {
                let index = group * groupWidth + channel
                guard index < perChannel.count else { return false }
                if perChannel[index].min != 0 || perChannel[index].max != 0 { return false }
            }
        }
        return true
    }

    private func convWeight(_ node: Node) -> Tensor? {
        guard let (_, weight) = try? GraphEdit.weight(of: node, input: 1, in: graph), weight.rank >= 3 else { return nil }
        return weight
    }

    private func noSiteReason(_ kind: Mutant.Kind) -> String {
        switch kind {
        case .scaleWeight: "no Conv with a weight initializer"
        case .zeroBias: "no Conv with a bias initializer"
        case .swapKernels: "no Conv with two or more output kernels"
        case .permuteChannel: "no Conv with two or more input channels per group (every Conv is depthwise)"
        case .swapActivation: "no Relu, Relu6, LeakyRelu, Sigmoid, HardSigmoid or HardSwish node"
        case .changeEpsilon: "no BatchNormalization, InstanceNormalization, LayerNormalization or GroupNormalization is left (every BatchNormalization was folded)"
        }
    }

    /// Two indices along `axis` whose slices differ, the first drawn at random; the first pair
    /// found if the drawn one has no differing partner, (0, 1) if all slices are equal.
    static func differingPair(_ tensor: Tensor, axis: Int, random: inout SplitMix64,
                              usable: (Int, Int) -> Bool = { _, _ in true }) -> (Int, Int) {
        let size = tensor.shape[axis]
        let values = tensor.doubleValues()
        func differ(_ a: Int, _ b: Int) -> Bool {
            a != b && slicesEqual(values, shape: tensor.shape, axis: axis, a, b) == false && usable(a, b)
        }
        let first = Int(random.next() % UInt64(size))
        let start = Int(random.next() % UInt64(size))
        for step in 0..<size where differ(first, (start + step) % size) { return (first, (start + step) % size) }
        for a in 0..<size {
            for b in (a + 1)..<size where differ(a, b) { return (a, b) }
        }
        return (0, 1)
    }

    /// Whether slices `a` and `b` of `tensor` along axis 0 or 1 hold the same values.
    static func slicesEqual(_ tensor: Tensor, axis: Int, _ a: Int, _ b: Int) -> Bool? {
        slicesEqual(tensor.doubleValues(), shape: tensor.shape, axis: axis, a, b)
    }

    static func slicesEqual(_ values: [Double], shape: [Int], axis: Int, _ a: Int, _ b: Int) -> Bool? {
        guard shape.count >= 2, axis < 2, shape[axis] > max(a, b), min(a, b) >= 0 else { return nil }
        let outer = axis == 0 ? 1 : shape[0]
        let inner = values.count / max(outer * shape[axis], 1)
        let stride = shape[axis] * inner
        for block in 0..<outer {
            for offset in 0..<inner where values[block * stride + a * inner + offset] != values[block * stride + b * inner + offset] {
                return false
            }
        }
        return true
    }

    static func fnv1a(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        return hash
    }
}

/// SplitMix64: a small seeded generator, the same sequence on every platform.
struct SplitMix64: Sendable {
    private var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Fisher–Yates with this generator (Swift's own shuffle may change between releases).
    mutating func shuffle<T>(_ items: inout [T]) {
        guard items.count > 1 else { return }
        for index in stride(from: items.count - 1, to: 0, by: -1) {
            items.swapAt(index, Int(next() % UInt64(index + 1)))
        }
    }
}
