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
        var definers: [String: [String]] = [:]
        var definitionOrder: [String] = []
        func define(_ value: String, by definer: String) {
            if definers[value] == nil { definitionOrder.append(value) }
            definers[value, default: []].append(definer)
        }
        for input in graph.inputs where !graph.initializers.contains(input.name) {
            define(input.name, by: "graph input")
        }
        for entry in graph.initializers {
            define(entry.name, by: "initializer")
        }
        for (index, node) in graph.nodes.enumerated() {
            for output in node.outputs where !output.isEmpty {
                define(output, by: "node '\(node.displayName(index: index))'")
            }
        }
        for value in definitionOrder {
            if let list = definers[value], list.count > 1 {
                defects.append(.duplicateDefinition(value: value, definedBy: list))
            }
        }

        for (index, node) in graph.nodes.enumerated() {
            for input in node.inputs where !input.isEmpty && definers[input] == nil {
                defects.append(.undefinedInput(node: node.displayName(index: index), value: input))
            }
        }
        for output in graph.outputs where definers[output.name] == nil {
            defects.append(.undefinedOutput(value: output.name))
        }

        do {
            _ = try graph.topologicalOrder()
        } catch {
            defects.append(error)
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
