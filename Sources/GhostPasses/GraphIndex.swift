import GhostIR

/// Read-only lookups a pass needs while matching: who produces and who reads each value, which
/// values are graph outputs, and which values are constants.
struct GraphIndex {
    let graph: Graph
    /// `producer[name]`: the first node writing a value.
    let producer: ProducerLookup
    /// `consumers[name]`: the nodes reading a value, each once, ascending (nil when none does).
    let consumers: ConsumerLookup
    let graphOutputs: Set<String>
    /// Declared values by name, made on the first `shape(of:)` (most passes never ask).
    private let declared = DeclaredValues()
    /// Node names and graph input and output names, made on the first `isNameTaken` (only a
    /// pass that adds names asks).
    private let otherNames = OtherNames()

    init(_ graph: Graph) {
        self.graph = graph
        let values = ValueTable(graph.nodes)
        producer = values.producerLookup
        consumers = values.consumerLookup
        graphOutputs = Set(graph.outputs.map(\.name))
        GraphScanCounter.current?.recordIndexBuild()
    }

    func node(_ index: Int) -> Node { graph.nodes[index] }

    /// Whether a node writes `value`, and the nodes reading it, for one hash.
    func producerAndReaders(of value: String) -> (produced: Bool, readers: ValueReaders?) {
        consumers.producerAndReaders(of: value)
    }

    func name(_ index: Int) -> String { graph.nodes[index].displayName(index: index) }

    /// The node producing `value`, if it is a node output.
    func producerNode(of value: String) -> (index: Int, node: Node)? {
        guard let index = producer[value] else { return nil }
        return (index, graph.nodes[index])
    }

    /// The index of the only node reading `value`, when exactly one node reads it and it is not
    /// a graph output; otherwise the reason it is shared, phrased for `--explain`.
    func soleConsumer(of value: String, producedBy producerName: String) -> Result<Int, Skip> {
        let readers = consumers[value] ?? []
        if graphOutputs.contains(value) {
            return .failure(Skip(.outputIsGraphOutput, "\(producerName) output '\(value)' is also a graph output"))
        }
        guard readers.count == 1 else {
            let others = readers.map(name).joined(separator: ", ")
            return .failure(Skip(.outputShared, "\(producerName) output also feeds \(others)", nodes: readers.map(name)))
        }
        return .success(readers[0])
    }

    /// The tensor behind `value` when it is a compile-time constant: an initializer, or the
    /// output of a Constant node holding a tensor or scalar/list value.
    func constant(_ value: String) -> Tensor? {
        if let tensor = graph.initializers[value] { return tensor }
        guard let (_, node) = producerNode(of: value), node.isONNX("Constant") else { return nil }
        if let tensor = node.attribute("value")?.tensorValue { return tensor }
        if let scalar = node.attribute("value_float")?.floatValue { return try? Tensor(float32: [scalar], shape: []) }
        if let list = node.attribute("value_floats")?.floatsValue { return try? Tensor(float32: list, shape: [list.count]) }
        if let scalar = node.attribute("value_int")?.intValue { return try? Tensor(int64: [scalar], shape: []) }
        if let list = node.attribute("value_ints")?.intsValue { return try? Tensor(int64: list, shape: [list.count]) }
        return nil
    }

    /// Whether a node, a value (node output, graph input or output) or an initializer of the
    /// indexed graph is named `name`.
    func isNameTaken(_ name: String) -> Bool {
        producer[name] != nil || graph.initializers.contains(name) || otherNames.contains(name, in: graph)
    }

    /// Whether a graph input, value_info entry or graph output declares `name`.
    func isDeclared(_ name: String) -> Bool { declared.lookup(name, in: graph) != nil }

    /// Whether `name` is a graph input.
    func isGraphInput(_ name: String) -> Bool { otherNames.isInput(name, in: graph) }

    /// The declared shape of `value` (graph inputs, outputs, value_info, initializers), if known.
    func shape(of value: String) -> [Int]? {
        if let tensor = constant(value) { return tensor.shape }
        return declared.lookup(value, in: graph)?.fixedShape
    }
}

/// The first declaration of each name among the graph inputs, then value_info, then outputs: one
/// dictionary instead of a scan of value_info (which exporters fill for every value) per query.
private final class DeclaredValues {
    private var byName: [String: Value]?

    func lookup(_ name: String, in graph: Graph) -> Value? {
        if byName == nil {
            var table: [String: Value] = [:]
            table.reserveCapacity(graph.inputs.count + graph.valueInfo.count + graph.outputs.count)
            for value in graph.inputs + graph.valueInfo + graph.outputs where table[value.name] == nil {
                table[value.name] = value
            }
            byName = table
        }
        return byName?[name]
    }
}

/// The names `producer` and the initializer table do not hold: node names, graph inputs and
/// outputs.
private final class OtherNames {
    private var names: Set<String>?
    private var inputs: Set<String>?

    func isInput(_ name: String, in graph: Graph) -> Bool {
        if inputs == nil { inputs = Set(graph.inputs.map(\.name)) }
        return inputs?.contains(name) ?? false
    }

    func contains(_ name: String, in graph: Graph) -> Bool {
        if names == nil {
            var table = Set<String>()
            table.reserveCapacity(graph.nodes.count + graph.inputs.count + graph.outputs.count)
            for node in graph.nodes { table.insert(node.name) }
            for value in graph.inputs { table.insert(value.name) }
            for value in graph.outputs { table.insert(value.name) }
            names = table
        }
        return names?.contains(name) ?? false
    }
}
