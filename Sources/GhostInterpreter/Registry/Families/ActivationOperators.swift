import GhostIR

extension OperatorRegistry {
    static let activations = OperatorFamily(title: "Activations", operators: [
        OperatorDefinition(activation: "Relu", "elementwise; also on integers") { _ in .relu },
        OperatorDefinition(activation: "LeakyRelu", "elementwise; `alpha`") { context throws(InterpreterError) in
            .leakyRelu(alpha: Double(try context.float("alpha", 0.01)))
        },
        OperatorDefinition(activation: "Sigmoid", "elementwise") { _ in .sigmoid },
        OperatorDefinition(activation: "HardSigmoid", "elementwise; `alpha`, `beta`") { context throws(InterpreterError) in
            .hardSigmoid(alpha: Double(try context.float("alpha", 0.2)), beta: Double(try context.float("beta", 0.5)))
        },
        OperatorDefinition(activation: "HardSwish", "elementwise") { _ in .hardSwish },
        OperatorDefinition(activation: "Tanh", "elementwise") { _ in .tanh },
        OperatorDefinition(activation: "Erf", "elementwise") { _ in .erf },
        OperatorDefinition(activation: "Sqrt", "elementwise") { _ in .sqrt },
        OperatorDefinition(activation: "Gelu", "opset 20; `approximate` none or tanh") { context throws(InterpreterError) in
            let approximate = try context.string("approximate", "none")
            guard approximate == "none" || approximate == "tanh" else { throw context.unsupported("approximate", approximate) }
            return .gelu(tanhApproximation: approximate == "tanh")
        },
        OperatorDefinition(activation: "Clip", "bounds as attributes (opset < 11) or optional scalar inputs (either may be omitted); also on integers") {
            context throws(InterpreterError) in
            let (low, high) = try Activations.clipBounds(context)
            return .clip(min: low, max: high)
        },
    ])
}

enum Activations {
    /// Clip's bounds are attributes before opset 11, optional scalar inputs after.
    static func clipBounds(_ context: NodeContext) throws(InterpreterError) -> (Double, Double) {
        var low = -Double.infinity, high = Double.infinity
        if context.opset < 11 {
            low = Double(try context.float("min", -.infinity))
            high = Double(try context.float("max", .infinity))
        } else {
            for (index, what) in [(1, "min"), (2, "max")] {
                guard let bound = context.optionalInput(index) else { continue }
                guard bound.count == 1 else { throw context.fail("\(what) must be a scalar, got shape \(bound.shape)") }
                if index == 1 { low = bound.doubleValues[0] } else { high = bound.doubleValues[0] }
            }
        }
        return (low, high)
    }
}
