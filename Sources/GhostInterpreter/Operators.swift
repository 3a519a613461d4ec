import GhostIR

/// The operator table: ONNX op type → kernel. docs/operators.md lists the same set.
enum Operators {
    static let supported: Set<String> = [
        "Conv", "BatchNormalization", "Relu", "LeakyRelu", "PRelu", "Clip", "Sigmoid", "HardSigmoid", "HardSwish",
        "Tanh", "Erf", "Gelu", "Softmax", "Add", "Sub", "Mul", "Div", "Pow", "Sqrt", "GlobalAveragePool",
        "GlobalMaxPool", "AveragePool", "MaxPool", "ReduceMean", "Concat", "Split", "Slice", "Pad", "Reshape",
        "Transpose", "Flatten", "Squeeze", "Unsqueeze", "Shape", "Gather", "Constant", "ConstantOfShape",
        "Identity", "Dropout", "Cast", "Gemm", "MatMul", "LayerNormalization",
    ]

    static func evaluate(_ context: NodeContext) throws(InterpreterError) -> [Buffer] {
        let node = context.node
        guard node.domain.isEmpty, supported.contains(node.opType) else {
            throw .unsupportedOperator(node: context.name, op: node.opType, domain: node.domain)
        }
        switch node.opType {
        case "Conv": return [try Convolution.evaluate(context)]
        case "BatchNormalization": return [try Normalization.batchNorm(context)]
        case "Add", "Sub", "Mul", "Div", "Pow", "PRelu":
            return [try BinaryOperator(rawValue: node.opType)!.evaluate(try context.input(0), try context.input(1), context)]
        case "Relu": return [try UnaryOperator.relu.evaluate(try context.input(0), context)]
        case "Sigmoid": return [try UnaryOperator.sigmoid.evaluate(try context.input(0), context)]
        case "Tanh": return [try UnaryOperator.tanh.evaluate(try context.input(0), context)]
        case "Erf": return [try UnaryOperator.erf.evaluate(try context.input(0), context)]
        case "Sqrt": return [try UnaryOperator.sqrt.evaluate(try context.input(0), context)]
        case "HardSwish": return [try UnaryOperator.hardSwish.evaluate(try context.input(0), context)]
        case "LeakyRelu":
            return [try UnaryOperator.leakyRelu(alpha: Double(try context.float("alpha", 0.01))).evaluate(try context.input(0), context)]
        case "HardSigmoid":
            let unary = UnaryOperator.hardSigmoid(alpha: Double(try context.float("alpha", 0.2)), beta: Double(try context.float("beta", 0.5)))
            return [try unary.evaluate(try context.input(0), context)]
        case "Gelu":
            let approximate = try context.string("approximate", "none")
            guard approximate == "none" || approximate == "tanh" else { throw context.unsupported("approximate", approximate) }
            return [try UnaryOperator.gelu(tanhApproximation: approximate == "tanh").evaluate(try context.input(0), context)]
        case "Clip": return [try clip(context)]
        case "Softmax": return [try Normalization.softmax(context)]
        case "LayerNormalization": return try Normalization.layerNorm(context)
        case "ReduceMean": return [try Normalization.reduceMean(context)]
        case "GlobalAveragePool": return [try Pooling.evaluateGlobal(context, maximum: false)]
        case "GlobalMaxPool": return [try Pooling.evaluateGlobal(context, maximum: true)]
        case "AveragePool": return [try Pooling.evaluateWindowed(context, maximum: false)]
        case "MaxPool":
            guard node.outputs.count < 2 || node.outputs[1].isEmpty else { throw context.unsupported("Indices output", "requested") }
            if try context.int("storage_order", 0) != 0 { throw context.unsupported("storage_order", "1") }
            return [try Pooling.evaluateWindowed(context, maximum: true)]
        case "Gemm": return [try MatrixProduct.gemm(context)]
        case "MatMul": return [try MatrixProduct.matMul(context)]
        case "Reshape": return [try ShapeOperators.reshape(context)]
        case "Flatten": return [try ShapeOperators.flatten(context)]
        case "Transpose": return [try ShapeOperators.transpose(context)]
        case "Squeeze": return [try ShapeOperators.squeeze(context)]
        case "Unsqueeze": return [try ShapeOperators.unsqueeze(context)]
        case "Concat": return [try ShapeOperators.concat(context)]
        case "Split": return try ShapeOperators.split(context)
        case "Slice": return [try ShapeOperators.slice(context)]
        case "Pad": return [try ShapeOperators.pad(context)]
        case "Shape": return [try ShapeOperators.shape(context)]
        case "Gather": return [try ShapeOperators.gather(context)]
        case "ConstantOfShape": return [try ShapeOperators.constantOfShape(context)]
        case "Cast": return [try ShapeOperators.cast(context)]
        case "Constant": return [try ShapeOperators.constant(context)]
        case "Identity": return [try context.input(0)]
        case "Dropout": return try dropout(context)
        default: throw .unsupportedOperator(node: context.name, op: node.opType, domain: node.domain)
        }
    }

    /// Clip's bounds are attributes before opset 11, optional inputs after.
    private static func clip(_ context: NodeContext) throws(InterpreterError) -> Buffer {
        var low = -Double.infinity, high = Double.infinity
        if context.opset < 11 {
            low = Double(try context.float("min", -.infinity))
            high = Double(try context.float("max", .infinity))
        } else {
            if let bound = context.optionalInput(1)?.doubleValues.first { low = bound }
            if let bound = context.optionalInput(2)?.doubleValues.first { high = bound }
        }
        return try UnaryOperator.clip(min: low, max: high).evaluate(try context.input(0), context)
    }

    /// Inference Dropout is the identity; its optional mask output is all true.
    private static func dropout(_ context: NodeContext) throws(InterpreterError) -> [Buffer] {
        if let mode = context.optionalInput(2), mode.int64Values.first ?? 0 != 0 {
            throw context.unsupported("training_mode", "true")
        }
        let x = try context.input(0)
        return [x, Buffer(shape: x.shape, storage: .bool([Bool](repeating: true, count: x.count)))]
    }
}
