/// SiLU after a producer other than a Conv: `Mul(x, Sigmoid(x))` (either operand order), where
/// the Sigmoid and the Mul are x's only readers and the Mul alone reads the Sigmoid, becomes one
/// step computing x·σ(x) in one pass (`GK_ACT_SILU`) instead of two passes and an intermediate.
///
/// Same bits as the two nodes: Sigmoid alone is the C loop's `1 / (1 + exp(−x))` and the Mul of
/// two equal-shaped operands is one rounded product, which is what `GK_ACT_SILU` computes
/// (contraction off, see ghost_activation.h). A Conv's SiLU is already its epilogue
/// (`ExecutionPlan.fusingConvEpilogues`); this covers the rest, e.g. RepConv's
/// `Add → Sigmoid → Mul` in YOLOv9's training form.
enum SiLUFusion {
    /// The step that replaces a Sigmoid and its Mul: reads x, writes the Mul's output. Not an
    /// ONNX operator and not in the registry (never a row of docs/operators.md).
    static let definition = OperatorDefinition("SiLU", "x·Sigmoid(x), planned from Sigmoid and Mul") { context throws(InterpreterError) in
        try UnaryOperator.silu.evaluate(try context.input(0), context)
    }

    /// `steps` with each such pair replaced by one step at the Sigmoid's position (its one input
    /// is ready there, and every reader of the Mul's output comes after the Mul). The step keeps
    /// the Sigmoid's node, so a failure names it. A value that is a graph output is never skipped.
    static func fusing(_ steps: [ExecutionPlan.Step], graphOutputs: Set<Int>) -> [ExecutionPlan.Step] {
        let readers = StepReaders(steps, graphOutputs: graphOutputs)
        var replaced: [Int: ExecutionPlan.Step] = [:]
        var removed = Set<Int>()
        for (position, sigmoid) in steps.enumerated() where sigmoid.operation.opType == "Sigmoid" {
            guard sigmoid.inputs.count == 1, sigmoid.outputs.count == 1 else { continue }
            let x = sigmoid.inputs[0], s = sigmoid.outputs[0]
            guard x >= 0, s >= 0, !graphOutputs.contains(x), !graphOutputs.contains(s),
                  let xReaders = readers[x], xReaders.count == 2, xReaders.contains(position),
                  let sReaders = readers[s], sReaders.count == 1 else { continue }
            let productPosition = sReaders[0]
            let product = steps[productPosition]
            guard xReaders.contains(productPosition), productPosition > position, !removed.contains(productPosition),
                  product.operation.opType == "Mul",
                  product.inputs.count == 2, Set(product.inputs) == [x, s],
                  product.outputs.count == 1, product.outputs[0] >= 0 else { continue }
            replaced[position] = ExecutionPlan.Step(source: sigmoid.source, operation: definition, inputs: [x],
                                                    outputs: product.outputs, prepared: nil)
            removed.insert(productPosition)
        }
        guard !replaced.isEmpty else { return steps }
        var result: [ExecutionPlan.Step] = []
        result.reserveCapacity(steps.count - removed.count)
        for (position, step) in steps.enumerated() where !removed.contains(position) {
            result.append(replaced[position] ?? step)
        }
        return result
    }
}
