import GhostIR

extension Mutant {
    /// The graph with this mutant planted. A changed weight gets a new initializer (the old one may
    /// feed other nodes, which must stay correct); the mutated node keeps its name and outputs.
    public func applied(to graph: Graph) throws(MutationError) -> Graph {
        var graph = graph
        guard let index = graph.nodes.firstIndex(where: { $0.name == node }) else { throw .nodeNotFound(node) }
        switch self {
        case .scaleWeight(_, let input, let factor):
            let (name, tensor) = try GraphEdit.weight(of: graph.nodes[index], input: input, in: graph)
            let scaled = tensor.doubleValues().map { $0 * factor }
            try GraphEdit.replace(input: input, of: index, with: scaled, like: tensor, named: name, in: &graph)
        case .zeroBias:
            let (name, tensor) = try GraphEdit.weight(of: graph.nodes[index], input: 2, in: graph)
            try GraphEdit.replace(input: 2, of: index, with: [Double](repeating: 0, count: tensor.elementCount),
                                  like: tensor, named: name, in: &graph)
        case .swapKernels(_, let first, let second):
            let (name, tensor) = try GraphEdit.weight(of: graph.nodes[index], input: 1, in: graph)
            guard tensor.rank >= 2, (0..<tensor.shape[0]).contains(first), (0..<tensor.shape[0]).contains(second) else {
                throw .notApplicable(node: node, reason: "kernels \(first), \(second) are not both in its weight of shape \(tensor.shape)")
            }
            var values = tensor.doubleValues()
            let size = tensor.elementCount / max(tensor.shape[0], 1)
            for offset in 0..<size { values.swapAt(first * size + offset, second * size + offset) }
            try GraphEdit.replace(input: 1, of: index, with: values, like: tensor, named: name, in: &graph)
        case .permuteChannel(_, let first, let second):
            let (name, tensor) = try GraphEdit.weight(of: graph.nodes[index], input: 1, in: graph)
            guard tensor.rank >= 2, (0..<tensor.shape[1]).contains(first), (0..<tensor.shape[1]).contains(second) else {
                throw .notApplicable(node: node, reason: "input channels \(first), \(second) are not both in its weight of shape \(tensor.shape)")
            }
            var values = tensor.doubleValues()
            let channels = tensor.shape[1]
            let plane = tensor.elementCount / max(tensor.shape[0] * channels, 1)
            for kernel in 0..<tensor.shape[0] {
                let base = kernel * channels * plane
                for offset in 0..<plane { values.swapAt(base + first * plane + offset, base + second * plane + offset) }
            }
            try GraphEdit.replace(input: 1, of: index, with: values, like: tensor, named: name, in: &graph)
        case .swapActivation(_, let from, let to):
            let original = graph.nodes[index]
            guard Activation.of(original, in: graph) == from else {
                throw .notApplicable(node: node, reason: "it is a \(original.opType), not \(from)")
            }
            let type = graph.valueInfo.first { $0.name == original.inputs[0] }?.elementType ?? .float32
            let replacement = try to.nodes(name: original.name, input: original.inputs[0], output: original.outputs[0],
                                           graph: &graph, elementType: type == .float64 ? .float64 : .float32)
            graph.nodes.replaceSubrange(index...index, with: replacement)
        case .changeEpsilon(_, _, let to):
            guard GraphEdit.normalizations.contains(graph.nodes[index].opType) else {
                throw .notApplicable(node: node, reason: "a \(graph.nodes[index].opType) has no epsilon")
            }
            graph.nodes[index].setAttribute("epsilon", .float(Float(to)))
        }
        return graph
    }
}

/// Small edits on graphs, for mutants.
enum GraphEdit {
    /// Operators with an `epsilon` attribute added to a variance.
    static let normalizations: Set<String> = ["BatchNormalization", "InstanceNormalization", "LayerNormalization", "GroupNormalization"]

    /// The float initializer at `input` of `node`.
    static func weight(of node: Node, input: Int, in graph: Graph) throws(MutationError) -> (String, Tensor) {
        guard input < node.inputs.count, !node.inputs[input].isEmpty else {
            throw .notApplicable(node: node.name, reason: "it has no input \(input)")
        }
        let name = node.inputs[input]
        guard let tensor = graph.initializers[name] else {
            throw .notApplicable(node: node.name, reason: "its input '\(name)' is not a weight (initializer)")
        }
        guard tensor.elementType == .float32 || tensor.elementType == .float64 else {
            throw .notApplicable(node: node.name, reason: "its input '\(name)' holds \(tensor.elementType), not float")
        }
        return (name, tensor)
    }

    /// Points input `input` of node `index` at a new initializer holding `values` (rounded to the
    /// element type of `like`).
    static func replace(input: Int, of index: Int, with values: [Double], like tensor: Tensor, named name: String,
                        in graph: inout Graph) throws(MutationError) {
        let fresh = freshName(name + ".mutant", in: graph)
        let node = graph.nodes[index].name
        do {
            graph.initializers[fresh] = tensor.elementType == .float64
                ? try Tensor(float64: values, shape: tensor.shape)
                : try Tensor(float32: values.map { Float($0) }, shape: tensor.shape)
        } catch {
            throw .notApplicable(node: node, reason: "\(error)")
        }
        graph.nodes[index].inputs[input] = fresh
    }

    static func scalar(_ value: Double, _ type: ElementType, node: String) throws(MutationError) -> Tensor {
        do {
            return type == .float64 ? try Tensor(float64: [value], shape: []) : try Tensor(float32: [Float(value)], shape: [])
        } catch {
            throw .notApplicable(node: node, reason: "\(error)")
        }
    }

    /// `base`, or `base.2`, `base.3`, … : the first that names no initializer, value or node.
    static func freshName(_ base: String, in graph: Graph) -> String {
        func taken(_ name: String) -> Bool {
            graph.initializers.contains(name) || graph.nodes.contains { $0.name == name || $0.outputs.contains(name) }
                || graph.inputs.contains { $0.name == name }
        }
        var candidate = base, suffix = 2
        while taken(candidate) {
            candidate = "\(base).\(suffix)"
            suffix += 1
        }
        return candidate
    }
}

/// Which nodes feed the graph outputs, and which lie downstream of a node.
public struct GraphReach: Sendable {
    private let graph: Graph
    private let producers: [String: Int]
    private let consumers: [String: [Int]]

    public init(_ graph: Graph) {
        self.graph = graph
        producers = graph.producerIndex()
        consumers = graph.consumerIndex()
    }

    /// Names of the nodes from which some graph output can be reached: a mutant anywhere else is
    /// in a dead branch.
    public func live() -> Set<String> {
        var seen = Set<Int>()
        var stack = graph.outputs.compactMap { producers[$0.name] }
        while let index = stack.popLast() {
            guard seen.insert(index).inserted else { continue }
            for input in graph.nodes[index].inputs where !input.isEmpty {
                if let producer = producers[input] { stack.append(producer) }
            }
        }
        return Set(seen.map { graph.nodes[$0].name })
    }

    /// Names of the nodes that read, directly or not, an output of the node named `name`.
    public func downstream(of name: String) -> Set<String> {
        guard let start = graph.nodes.firstIndex(where: { $0.name == name }) else { return [] }
        var seen = Set<Int>()
        var stack = graph.nodes[start].outputs.flatMap { consumers[$0] ?? [] }
        while let index = stack.popLast() {
            guard seen.insert(index).inserted else { continue }
            for output in graph.nodes[index].outputs where !output.isEmpty { stack.append(contentsOf: consumers[output] ?? []) }
        }
        return Set(seen.map { graph.nodes[$0].name })
    }
}
