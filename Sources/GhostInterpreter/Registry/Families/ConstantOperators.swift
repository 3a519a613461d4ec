import GhostIR

extension OperatorRegistry {
    static let constants = OperatorFamily(title: "Constants and types", operators: [
        OperatorDefinition("Constant", "`value`, `value_float(s)`, `value_int(s)`; string and sparse constants unsupported", Constants.constant),
        OperatorDefinition("ConstantOfShape", "`value` (one element; float32 0 by default)", Constants.constantOfShape),
        OperatorDefinition("Cast", "to any numeric type or bool. Float targets compute in the run's precision; in a float32 run a cast to float16 or bfloat16 rounds to that type (ties to even). Float → integer truncates toward zero; integer targets wrap to their width. String and float8 targets unsupported",
                           Constants.cast),
        OperatorDefinition("Identity", "returns its input") { context throws(InterpreterError) in try context.input(0) },
        OperatorDefinition("Dropout", "the identity in inference, with an all-true mask; a true `training_mode` input is unsupported",
                           outputs: dropout),
    ])

    /// Inference Dropout is the identity; its optional mask output is all true. A training-mode
    /// Dropout (a true `training_mode` input, opset 12+) is refused, as its output is random.
    private static func dropout(_ context: NodeContext) throws(InterpreterError) -> [Buffer] {
        if let mode = context.optionalInput(2), mode.int64Values.contains(where: { $0 != 0 }) {
            throw context.unsupported("training_mode", "true")
        }
        let x = try context.input(0)
        return [x, Buffer(shape: x.shape, storage: .bool([Bool](repeating: true, count: x.count)))]
    }
}
