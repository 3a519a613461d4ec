/// Checks the structural rules every graph must satisfy, before and after every pass:
///
/// 1. every value is defined exactly once — by a graph input, an initializer or one node output
///    (an initializer may also be listed as a graph input, as files of IR version < 4 do);
/// 2. every node input is defined;
/// 3. every graph output is defined;
/// 4. the nodes are acyclic (so every output is computable from the inputs);
/// 5. where the graph declares a type for a value that an initializer holds, they agree.
public enum GraphVerifier {
    /// Returns every defect found, in rule order; empty when the graph is well formed.
    ///
    /// This runs at load and after every rewriting pass, so the common case (a well-formed graph
    /// whose node list is in topological order, as the passes keep it) is one sweep with one
    /// dictionary insert per node output and, for a node input, a comparison with the last few
    /// outputs and the next weights, or else one or two lookups; only a graph
    /// that fails it is examined again, rule by rule, to describe every defect.
    public static func defects(in graph: Graph) -> [GraphValidationError] {
        var steps = 0, lookups = 0
        let quick = isWellFormedInOrder(graph, steps: &steps, lookups: &lookups)
        GraphScanCounter.current?.recordVerification(steps: steps, inputLookups: lookups, detailed: !quick)
        if quick { return typeMismatches(in: graph) }
        return describedDefects(in: graph)
    }

    /// Whether rules 1–4 hold with every node reading only values defined before it: then the
    /// list is a topological order, so the graph is acyclic. False says nothing about which
    /// rule failed (a well-formed graph listed out of order fails it too).
    private static func isWellFormedInOrder(_ graph: Graph, steps: inout Int, lookups: inout Int) -> Bool {
        let initializers = graph.initializers
        // Graph inputs and the outputs of the nodes swept so far; initializers are looked up in
        // their own table rather than copied in here. A name is hashed once for both tables.
        var defined = DefinedNames(expected: graph.inputs.count + graph.nodes.count + graph.nodes.count / 4)
        for input in graph.inputs {
            let hash = NameSlots.hash(input.name)
            if initializers.contains(input.name, hash: hash) { continue }
            guard defined.insert(input.name, hash: hash) else { return false }
        }
        // Most inputs are found without hashing (at 200k nodes the hash tables outgrow the
        // caches, and each lookup is a cache miss): an activation is usually the output of one
        // of the last few nodes, and exporters list the weights in the order the nodes read them,
        // so the next weight is usually in the initializer slot after the last one matched. Both
        // guesses are only shortcuts to "defined"; a miss falls back to the tables.
        var recent = RecentNames()
        var nextSlot = 0
        let slotCount = initializers.slotCount
        func isNextWeight(_ name: String) -> Bool {
            var slot = nextSlot
            let end = min(slot + 4, slotCount)
            while slot < end {
                if initializers.name(inSlot: slot) == name {
                    nextSlot = slot + 1
                    return true
                }
                slot += 1
            }
            return false
        }
        // Which table found the last looked-up input: weights outnumber activations among the
        // inputs, so the initializers are asked first, but a node whose inputs are activations
        // that are not recent (a Concat of 100k branches) would miss there on every one.
        var activationsFirst = false
        // By position: a loop over the nodes themselves would copy (retain and release) each.
        let nodes = graph.nodes
        for position in nodes.indices {
            steps += nodes[position].inputs.count + nodes[position].outputs.count
            for input in nodes[position].inputs where !input.isEmpty {
                if recent.contains(input) || isNextWeight(input) { continue }
                lookups += 1
                let hash = NameSlots.hash(input)
                if activationsFirst {
                    if defined.contains(input, hash: hash) { continue }
                    guard initializers.contains(input, hash: hash) else { return false }
                    activationsFirst = false
                } else {
                    if initializers.contains(input, hash: hash) { continue }
                    guard defined.contains(input, hash: hash) else { return false }
                    activationsFirst = true
                }
            }
            for output in nodes[position].outputs where !output.isEmpty {
                let hash = NameSlots.hash(output)
                guard !initializers.contains(output, hash: hash), defined.insert(output, hash: hash) else { return false }
                recent.add(output)
            }
        }
        for output in graph.outputs {
            let hash = NameSlots.hash(output.name)
            guard defined.contains(output.name, hash: hash) || initializers.contains(output.name, hash: hash) else { return false }
        }
        return true
    }

    /// The names defined so far in a sweep (graph inputs, node outputs), each hashed once by the
    /// caller: a `NameSlots` index over an array of the names.
    private struct DefinedNames {
        private var names: [String] = []
        private var hashes: [Int] = []
        private var index: NameSlots

        init(expected: Int) {
            names.reserveCapacity(expected)
            hashes.reserveCapacity(expected)
            index = NameSlots(minimumCount: expected)
        }

        func contains(_ name: String, hash: Int) -> Bool {
            names.withUnsafeBufferPointer { names in index.position(hash: hash) { names[$0] == name } != nil }
        }

        /// Adds `name`; false when it was there already.
        mutating func insert(_ name: String, hash: Int) -> Bool {
            guard !contains(name, hash: hash) else { return false }
            if index.isFull {
                index.rebuild(count: 0, from: zip(hashes.indices, hashes).lazy.map { (position: $0.0, hash: $0.1) }, headroom: true)
            }
            index.insert(position: names.count, hash: hash)
            names.append(name)
            hashes.append(hash)
            return true
        }
    }

    /// The last few node outputs of a sweep, compared by equality before any hashing.
    private struct RecentNames {
        private var names = ["", "", "", ""]
        private var next = 0

        func contains(_ name: String) -> Bool {
            names[0] == name || names[1] == name || names[2] == name || names[3] == name
        }

        mutating func add(_ name: String) {
            names[next] = name
            next = (next + 1) & 3
        }
    }

    /// Rule 5 alone, for a caller that established rules 1–4 another way (the passes check a
    /// rewritten graph through the value table of the index the next pass reads, and come here
    /// for every rule only when that fails).
    public static func typeDefects(in graph: Graph) -> [GraphValidationError] { typeMismatches(in: graph) }

    /// Rule 5 alone.
    private static func typeMismatches(in graph: Graph) -> [GraphValidationError] {
        var defects: [GraphValidationError] = []
        for declarations in [graph.inputs, graph.valueInfo] {
            for declared in declarations {
                guard let tensor = graph.initializers[declared.name] else { continue }
                if let mismatch = typeMismatch(declared: declared, tensor: tensor) {
                    defects.append(mismatch)
                }
            }
        }
        return defects
    }

    /// Every defect, rule by rule, each described.
    private static func describedDefects(in graph: Graph) -> [GraphValidationError] {
        var defects: [GraphValidationError] = []
        // Who defines each value: the first definer, in order of definition, and any further
        // ones. Descriptions are made only for a value defined twice (this runs after every
        // pass, so the common case must not build a string per node).
        enum Definer {
            case graphInput, initializer, node(Int)
        }
        func describe(_ definer: Definer) -> String {
            switch definer {
            case .graphInput: return "graph input"
            case .initializer: return "initializer"
            case .node(let index): return "node '\(graph.nodes[index].displayName(index: index))'"
            }
        }
        var definers: [String: (order: Int, first: Definer)] = [:]
        definers.reserveCapacity(graph.inputs.count + graph.initializers.count + graph.nodes.count * 2)
        var redefinitions: [String: [Definer]] = [:]
        func define(_ value: String, by definer: Definer) {
            if definers[value] == nil {
                definers[value] = (definers.count, definer)
            } else {
                redefinitions[value, default: []].append(definer)
            }
        }
        for input in graph.inputs where !graph.initializers.contains(input.name) {
            define(input.name, by: .graphInput)
        }
        for entry in graph.initializers {
            define(entry.name, by: .initializer)
        }
        for (index, node) in graph.nodes.enumerated() {
            for output in node.outputs where !output.isEmpty {
                define(output, by: .node(index))
            }
        }
        for (value, later) in redefinitions.sorted(by: { definers[$0.key]!.order < definers[$1.key]!.order }) {
            defects.append(.duplicateDefinition(value: value, definedBy: ([definers[value]!.first] + later).map(describe)))
        }

        // A list in which every node's inputs come from earlier nodes is a topological order, so
        // the graph is acyclic without sorting it (passes keep lists in order); only a list out of
        // order needs the full sort, which finds a cycle if there is one.
        var inOrder = true
        for (index, node) in graph.nodes.enumerated() {
            for input in node.inputs where !input.isEmpty {
                guard let definer = definers[input] else {
                    defects.append(.undefinedInput(node: node.displayName(index: index), value: input))
                    continue
                }
                if case .node(let producer) = definer.first, producer >= index { inOrder = false }
            }
        }
        for output in graph.outputs where definers[output.name] == nil {
            defects.append(.undefinedOutput(value: output.name))
        }

        if !inOrder {
            do {
                _ = try graph.topologicalOrder()
            } catch {
                defects.append(error)
            }
        }

        return defects + typeMismatches(in: graph)
    }

    /// Throws the first defect, if any.
    public static func verify(_ graph: Graph) throws(GraphValidationError) {
        if let first = defects(in: graph).first { throw first }
    }

    private static func typeMismatch(declared: Value, tensor: Tensor) -> GraphValidationError? {
        let actual = Value(name: declared.name, elementType: tensor.elementType,
                           shape: tensor.shape.map(ShapeDimension.fixed))
        // A half-precision declaration is satisfied by the widened float32 tensor.
        let declaredType = declared.elementType.map { $0.isStorable ? $0 : .float32 }
        if let declaredType, declaredType != tensor.elementType {
            return .typeMismatch(value: declared.name, declared: declared.typeDescription,
                                 actual: actual.typeDescription)
        }
        if let shape = declared.shape {
            let agrees = shape.count == tensor.rank && zip(shape, tensor.shape).allSatisfy { dimension, size in
                dimension.fixedValue.map { $0 == size } ?? true
            }
            if !agrees {
                return .typeMismatch(value: declared.name, declared: declared.typeDescription,
                                     actual: actual.typeDescription)
            }
        }
        return nil
    }
}
