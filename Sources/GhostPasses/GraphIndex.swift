import GhostIR
import Synchronization

/// Read-only lookups a pass needs while matching: who produces and who reads each value, which
/// values are graph outputs, and which values are constants.
///
/// A class: rules hand the index to every helper (and capture it in closures) once per site, and
/// a struct of this many references is retained and released field by field at each copy.
final class GraphIndex {
    let graph: Graph
    /// `producer[name]`: the first node writing a value.
    let producer: ProducerLookup
    /// `consumers[name]`: the nodes reading a value, each once, ascending (nil when none does).
    let consumers: ConsumerLookup
    let graphOutputs: Set<String>
    /// Rules 1–4 of `GraphVerifier` hold with every node reading only values defined before it
    /// (see `ValueTable`): how the pipeline checks a pass's output without a sweep of its own.
    let isWellFormedInOrder: Bool
    private let values: ValueTable
    /// Declared values by name, made on the first `shape(of:)` (most passes never ask).
    private let declared = DeclaredValues()
    /// Node and graph output names, asked about on the first `isNameTaken` (only a pass that adds
    /// names asks), and graph inputs for `isGraphInput`.
    private let otherNames = OtherNames()

    convenience init(_ graph: Graph) {
        var none: ValueTable.Carry? = nil
        self.init(graph, carrying: &none)
    }

    /// The index of `graph`, its value table built from `carry` (taken) when that fits.
    init(_ graph: Graph, carrying carry: inout ValueTable.Carry?) {
        self.graph = graph
        let values = ValueTable(graph, carrying: &carry)
        self.values = values
        producer = values.producerLookup
        consumers = values.consumerLookup
        isWellFormedInOrder = values.isWellFormedInOrder
        graphOutputs = Set(graph.outputs.map(\.name))
        GraphScanCounter.current?.recordIndexBuild()
    }

    func node(_ index: Int) -> Node { graph.nodes[index] }

    /// Whether a node writes `value`, the nodes reading it, and the slot of the initializer table
    /// holding it (-1: none), for one hash.
    func lookup(_ value: String) -> (produced: Bool, readers: ValueReaders?, slot: Int) {
        values.lookup(value)
    }

    /// The display name of the node at `index`, read in place: `nodes[index].displayName` copied
    /// the whole node (retaining and releasing every field) for one string, at every rewrite.
    func name(_ index: Int) -> String {
        graph.nodes.withUnsafeBufferPointer { nodes in
            Node.displayName(name: nodes[index].name, opType: nodes[index].opType, index: index)
        }
    }

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

    /// The id the value table gave input `k` of the node at `position` (nil when that input is
    /// omitted or absent): found by position, no name hashed.
    func inputID(_ k: Int, ofNode position: Int) -> Int? {
        let inputs = graph.nodes[position].inputs
        guard k >= 0, k < inputs.count, !inputs[k].isEmpty else { return nil }
        var present = 0
        for earlier in 0..<k where !inputs[earlier].isEmpty { present += 1 }
        let ids = values.inputIDs(ofNode: position)
        return Int(ids[ids.startIndex + present])
    }

    /// The ids of the present inputs of the node at `position`, in input order.
    func inputIDs(ofNode position: Int) -> ArraySlice<Int32> { values.inputIDs(ofNode: position) }

    /// The id of the initializer in slot `slot` of the indexed table (nil: an empty slot).
    func initializerID(slot: Int) -> Int? { values.initializerID(slot: slot) }

    /// The index's value table (which the rule driver hands to the next build once this index is gone).
    var valueTable: ValueTable { values }

    /// The first node writing the value with id `id`, if a node does.
    func producer(id: Int) -> Int? { values.producer(id: id) }

    /// The id of the first output of the node at `position` (nil when it has none).
    func firstOutputID(ofNode position: Int) -> Int? { values.firstOutputID(ofNode: position) }

    /// `consumers[name]` by id.
    func readers(id: Int) -> ValueReaders? { values.readers(id: id) }

    /// `lookup` by id.
    func lookup(id: Int) -> (produced: Bool, readers: ValueReaders?, slot: Int) { values.lookup(id: id) }

    /// `constant(graph.nodes[position].inputs[k])`, reaching an initializer through the slot the
    /// value table recorded for it: the rules' per-site reads of weights hash no name.
    func constantInput(_ k: Int, ofNode position: Int) -> Tensor? {
        guard let id = inputID(k, ofNode: position) else { return nil }
        let slot = values.slot(id: id)
        if slot >= 0 { return graph.initializers.tensor(inSlot: slot) }
        // Not an initializer: a Constant node's output, or no constant.
        guard let producer = values.producer(id: id), graph.nodes[producer].isONNX("Constant") else { return nil }
        return constant(graph.nodes[position].inputs[k])
    }

    /// Whether a node, a value (node output, graph input or output) or an initializer of the
    /// indexed graph is named `name`.
    func isNameTaken(_ name: String) -> Bool { isNameTaken(name, hash: NameSlots.hash(name)) }

    /// `isNameTaken` of a name the caller hashed (`NameSlots.hash`): the one hash serves the value
    /// table, which holds every value, initializer and graph input by name, and the node names'
    /// filter.
    func isNameTaken(_ name: String, hash: Int) -> Bool {
        values.contains(name, hash: hash) || otherNames.contains(name, hash: hash, in: graph)
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
///
/// Locked: a sweep checks its sites on several threads (see `RuleDriver`), and the first of them
/// to ask builds the dictionary.
private final class DeclaredValues: Sendable {
    private let byName = Mutex<[String: Value]?>(nil)

    func lookup(_ name: String, in graph: Graph) -> Value? {
        byName.withLock { byName in
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
}

/// The names the value table does not hold: node names and graph outputs (an undefined one, in a
/// graph the verifier would refuse, is no value); and the graph inputs by name. Locked, as
/// `DeclaredValues` is.
private final class OtherNames: Sendable {
    private struct State {
        var names: Set<String>?
        var filter: NameFilter?
        /// Names the filter let through that a sweep of the node names then looked for.
        var sweeps = 0
        var inputs: Set<String>?
    }

    private let state = Mutex(State())

    func isInput(_ name: String, in graph: Graph) -> Bool {
        state.withLock { state in
            if state.inputs == nil { state.inputs = Set(graph.inputs.map(\.name)) }
            return state.inputs?.contains(name) ?? false
        }
    }

    /// Whether a node or a graph output is named `name`. Asked for every name an edit hands out
    /// (a fresh one, nearly always): a filter of the names answers most of those from a few
    /// bits, a name it lets through is looked for in the list, and only a graph whose edit asks
    /// about many such names gets the set of them (a sweep per name would be quadratic).
    func contains(_ name: String, hash: Int, in graph: Graph) -> Bool {
        state.withLock { state in
            if let names = state.names { return names.contains(name) }
            if state.filter == nil { state.filter = NameFilter(graph) }
            guard state.filter?.mayContain(hash: hash) ?? true else { return false }
            state.sweeps += 1
            if state.sweeps <= 16 {
                var found = false
                forEachName(in: graph) { found = found || $0 == name }
                return found
            }
            var table = Set<String>()
            table.reserveCapacity(graph.nodes.count + graph.outputs.count)
            forEachName(in: graph) { table.insert($0) }
            state.names = table
            state.filter = nil
            return table.contains(name)
        }
    }
}

/// Every node name, then every graph output name. By position: a loop over the nodes themselves
/// would copy (retain and release) each.
private func forEachName(in graph: Graph, _ body: (String) -> Void) {
    let nodes = graph.nodes
    for position in nodes.indices { body(nodes[position].name) }
    for value in graph.outputs { body(value.name) }
}

/// A Bloom filter of the node names and graph output names of one graph: 64 bits a name and
/// five bits each (from one hash, by double hashing), so a name that is none of them is told in
/// five bit tests with a false positive about once in 400,000. The bits (2 MB at 200k nodes)
/// are built from one sweep; a `Set` of the names would be 16 bytes a bucket, missed in the
/// caches at every probe.
private struct NameFilter {
    private var bits: [UInt64]
    private let mask: Int

    init(_ graph: Graph) {
        let count = graph.nodes.count + graph.outputs.count
        var size = 1024
        while size < count * 64, size < Int.max / 4 { size *= 2 }
        bits = [UInt64](repeating: 0, count: size / 64)
        mask = size - 1
        forEachName(in: graph) { insert($0) }
    }

    private static func probes(_ hash: Int) -> (first: Int, step: Int) {
        let hash = UInt64(bitPattern: Int64(hash))
        // An odd step visits distinct bits of a power-of-two table.
        return (Int(truncatingIfNeeded: hash), Int(truncatingIfNeeded: (hash >> 32) | 1))
    }

    private mutating func insert(_ name: String) {
        let (first, step) = Self.probes(NameSlots.hash(name))
        for k in 0..<5 {
            let bit = (first &+ k &* step) & mask
            bits[bit >> 6] |= 1 << UInt64(bit & 63)
        }
    }

    /// Whether a name with this hash (`NameSlots.hash`) may be one of the graph's.
    func mayContain(hash: Int) -> Bool {
        let (first, step) = Self.probes(hash)
        for k in 0..<5 {
            let bit = (first &+ k &* step) & mask
            if bits[bit >> 6] & (1 << UInt64(bit & 63)) == 0 { return false }
        }
        return true
    }
}
