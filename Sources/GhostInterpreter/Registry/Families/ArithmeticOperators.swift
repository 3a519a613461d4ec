import GhostIR

extension OperatorRegistry {
    private static func binary(_ operation: BinaryOperator, _ notes: String) -> OperatorDefinition {
        OperatorDefinition(operation.rawValue, notes) { (context: NodeContext) throws(InterpreterError) -> Buffer in
            try operation.evaluate(try context.input(0), try context.input(1), context)
        }
    }

    static let arithmetic = OperatorFamily(title: "Arithmetic", operators: [
        binary(.add, "numpy broadcasting; integers too (shape arithmetic)"),
        binary(.sub, "numpy broadcasting; integers too (shape arithmetic)"),
        binary(.mul, "numpy broadcasting; integers too (shape arithmetic)"),
        binary(.div, "numpy broadcasting; integer division truncates toward zero, and dividing by zero is an error"),
        binary(.pow, "numpy broadcasting; the exponent may have another type than the base; the result has the base's type"),
        binary(.prelu, "slope broadcast to X (unidirectional)"),
    ])
}
