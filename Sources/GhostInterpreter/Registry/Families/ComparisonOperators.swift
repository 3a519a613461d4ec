import GhostIR

extension OperatorRegistry {
    private static func compare(_ operation: Comparison) -> OperatorDefinition {
        OperatorDefinition(operation.rawValue, "numpy broadcasting; numbers of one type (NaN compares false)\(operation == .equal ? " or bools" : ""); bool result") {
            (context: NodeContext) throws(InterpreterError) -> Buffer in try operation.evaluate(context)
        }
    }

    private static func logic(_ operation: Logic) -> OperatorDefinition {
        OperatorDefinition(operation.rawValue, "bool inputs, numpy broadcasting") { (context: NodeContext) throws(InterpreterError) -> Buffer in
            try operation.evaluate(context)
        }
    }

    static let comparison = OperatorFamily(title: "Comparison, logic and selection", operators: [
        compare(.equal),
        compare(.less),
        compare(.lessOrEqual),
        compare(.greater),
        compare(.greaterOrEqual),
        OperatorDefinition("Not", "bool input", Logic.not),
        logic(.and),
        logic(.or),
        logic(.xor),
        OperatorDefinition("Where", "bool condition; X and Y of one type (any); the three broadcast together", Selection.where),
        OperatorDefinition("IsNaN", "floating-point input; bool result", FloatClass.isNaN),
        OperatorDefinition("IsInf", "floating-point input; `detect_positive`, `detect_negative`; bool result", FloatClass.isInf),
    ])
}
