/// One row of the interpreter's operator table: an ONNX operator (default domain), its kernel,
/// what the planner may work out about it once, and its documentation line.
///
/// Every list of operators — `docs/operators.md`, the conformance selection, `ghost-convert
/// operators` — is read from `OperatorRegistry`, and nothing else decides whether an op runs.
/// Adding an operator is one kernel file and one row here (in its family's file).
final class OperatorDefinition: Sendable {
    /// How the planner treats the operator besides evaluating it.
    enum Role: Sendable {
        case general
        /// Conv: may absorb a following BatchNormalization and activation (`ConvEpilogue`).
        case convolution
        /// BatchNormalization: its coefficients are computed once when its parameters are constants.
        case batchNormalization
    }

    let opType: String
    /// One line for docs/operators.md: attributes, forms, and what is refused.
    let notes: String
    let role: Role
    let evaluate: @Sendable (NodeContext) throws(InterpreterError) -> [Buffer]
    /// Work done once when the interpreter is made, from the constant inputs present in the
    /// context (nil where an input is computed at run time); nil when there is nothing to do.
    let prepare: (@Sendable (NodeContext, PlanOptions) -> PreparedNode?)?
    /// For a unary activation a Conv may apply to its own output: its element function.
    let activation: (@Sendable (NodeContext) throws(InterpreterError) -> UnaryOperator)?

    init(_ opType: String, _ notes: String, role: Role = .general,
         prepare: (@Sendable (NodeContext, PlanOptions) -> PreparedNode?)? = nil,
         activation: (@Sendable (NodeContext) throws(InterpreterError) -> UnaryOperator)? = nil,
         outputs evaluate: @escaping @Sendable (NodeContext) throws(InterpreterError) -> [Buffer]) {
        self.opType = opType
        self.notes = notes
        self.role = role
        self.evaluate = evaluate
        self.prepare = prepare
        self.activation = activation
    }

    /// An operator with one output.
    convenience init(_ opType: String, _ notes: String, role: Role = .general,
                     prepare: (@Sendable (NodeContext, PlanOptions) -> PreparedNode?)? = nil,
                     activation: (@Sendable (NodeContext) throws(InterpreterError) -> UnaryOperator)? = nil,
                     _ evaluate: @escaping @Sendable (NodeContext) throws(InterpreterError) -> Buffer) {
        self.init(opType, notes, role: role, prepare: prepare, activation: activation,
                  outputs: { (context: NodeContext) throws(InterpreterError) -> [Buffer] in [try evaluate(context)] })
    }

    /// A unary activation: evaluated and fused into a Conv through the same element function.
    convenience init(activation opType: String, _ notes: String,
                     _ function: @escaping @Sendable (NodeContext) throws(InterpreterError) -> UnaryOperator) {
        self.init(opType, notes, activation: function) { (context: NodeContext) throws(InterpreterError) -> Buffer in
            try function(context).evaluate(try context.input(0), context)
        }
    }
}

/// Settings the planner hands to `OperatorDefinition.prepare`.
struct PlanOptions: Sendable {
    var precision: Precision
    var threads: Int
}

/// A section of docs/operators.md: operators that belong together.
struct OperatorFamily: Sendable {
    let title: String
    let operators: [OperatorDefinition]
}
