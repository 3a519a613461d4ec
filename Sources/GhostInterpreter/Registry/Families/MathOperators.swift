import GhostIR

extension OperatorRegistry {
    private static func unary(_ opType: String, _ operation: UnaryMath, _ notes: String) -> OperatorDefinition {
        OperatorDefinition(opType, notes) { (context: NodeContext) throws(InterpreterError) -> Buffer in try operation.evaluate(context) }
    }

    private static func variadic(_ opType: String, _ operation: Variadic.Operation, _ notes: String) -> OperatorDefinition {
        OperatorDefinition(opType, notes) { (context: NodeContext) throws(InterpreterError) -> Buffer in
            try Variadic.evaluate(operation, context)
        }
    }

    private static let floating = "elementwise, in the run's precision"

    static let elementwiseMath = OperatorFamily(title: "Elementwise math", operators: [
        unary("Exp", .exp, floating),
        unary("Log", .log, floating),
        unary("Reciprocal", .reciprocal, floating),
        unary("Neg", .neg, "elementwise; signed integers too (wrapping at the type's width)"),
        unary("Abs", .abs, "elementwise; integers too (wrapping at the type's width)"),
        unary("Sign", .sign, "elementwise; integers too; Sign(NaN) = NaN, Sign(±0) = 0"),
        unary("Floor", .floor, floating),
        unary("Ceil", .ceil, floating),
        unary("Round", .round, "elementwise; halves to even (−0.5 → −0)"),
        unary("Sin", .sin, floating),
        unary("Cos", .cos, floating),
        unary("Tan", .tan, floating),
        unary("Asin", .asin, floating),
        unary("Acos", .acos, floating),
        unary("Atan", .atan, floating),
        unary("Sinh", .sinh, floating),
        unary("Cosh", .cosh, floating),
        unary("Asinh", .asinh, floating),
        unary("Acosh", .acosh, floating),
        unary("Atanh", .atanh, floating),
        unary("Softplus", .softplus, "elementwise; x + log1p(e^−x) for x > 0, else log1p(e^x) (ONNX Runtime's float kernel: no overflow)"),
        unary("Softsign", .softsign, "elementwise; x / (1 + |x|) (±inf → NaN, as ONNX Runtime)"),
        unary("Mish", .mish, "elementwise; x·tanh(Softplus(x))"),
        OperatorDefinition("Elu", "elementwise; `alpha` (1)") { context throws(InterpreterError) in
            try UnaryMath.elu(alpha: try context.float("alpha", 1)).evaluate(context)
        },
        OperatorDefinition("Selu", "elementwise; `alpha`, `gamma` (the spec's float32 defaults)") { context throws(InterpreterError) in
            try UnaryMath.selu(alpha: try context.float("alpha", 1.67326319217681884765625),
                               gamma: try context.float("gamma", 1.05070102214813232421875)).evaluate(context)
        },
        OperatorDefinition("Celu", "elementwise; `alpha` (1, not 0)") { context throws(InterpreterError) in
            let alpha = try context.float("alpha", 1)
            guard alpha != 0 else { throw context.fail("alpha must not be 0") }
            return try UnaryMath.celu(alpha: alpha).evaluate(context)
        },
        OperatorDefinition("ThresholdedRelu", "elementwise; `alpha` (1)") { context throws(InterpreterError) in
            try UnaryMath.thresholdedRelu(alpha: try context.float("alpha", 1)).evaluate(context)
        },
        OperatorDefinition("Hardmax", "opset ≥ 13: one axis (default −1); before 13: coerced to 2-D at `axis` (default 1); 1 at the first element equal to the lane maximum; with NaN, the maximum is taken in ONNX Runtime's (Eigen's vectorized) order, and a NaN maximum gives a lane of zeros",
                           AxisActivations.hardmax),
        OperatorDefinition("LogSoftmax", "axes as Softmax; x − max − log Σ e^{x − max} (ONNX Runtime's order)", AxisActivations.logSoftmax),
        variadic("Max", .max, "1…N inputs broadcast together; NaN propagates; integers too"),
        variadic("Min", .min, "1…N inputs broadcast together; NaN propagates; integers too"),
        variadic("Sum", .sum, "1…N inputs broadcast together, added in input order"),
        variadic("Mean", .mean, "1…N inputs broadcast together; the sum times 1/N"),
        OperatorDefinition("Mod", "numpy broadcasting; `fmod` 1: C fmod (floats, integers); `fmod` 0: floored remainder on integers, and on floats from opset 28 (refused before, as the spec and ONNX Runtime do); integer modulo by zero is an error",
                           Modulo.evaluate),
    ])
}
