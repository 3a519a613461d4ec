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
    public static func defects(in graph: Graph) -> [GraphValidationError] {
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

        for declared in graph.inputs + graph.valueInfo {
            guard let tensor = graph.initializers[declared.name] else { continue }
            if let mismatch = typeMismatch(declared: declared, tensor: tensor) {
                defects.append(mismatch)
            }
        }
        return defects
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
