import GhostIR

/// The supported ONNX operators (default domain), by op type. docs/operators.md lists the same
/// set; scripts/onnx-node-tests.py mirrors it to pick ONNX's conformance cases.
enum OperatorKind: String, CaseIterable, Sendable {
    case conv = "Conv", batchNormalization = "BatchNormalization"
    case relu = "Relu", leakyRelu = "LeakyRelu", prelu = "PRelu", clip = "Clip", sigmoid = "Sigmoid"
    case hardSigmoid = "HardSigmoid", hardSwish = "HardSwish", tanh = "Tanh", erf = "Erf", gelu = "Gelu"
    case softmax = "Softmax"
    case add = "Add", sub = "Sub", mul = "Mul", div = "Div", pow = "Pow", sqrt = "Sqrt"
    case globalAveragePool = "GlobalAveragePool", globalMaxPool = "GlobalMaxPool"
    case averagePool = "AveragePool", maxPool = "MaxPool"
    case reduceMean = "ReduceMean", layerNormalization = "LayerNormalization"
    case concat = "Concat", split = "Split", slice = "Slice", pad = "Pad", reshape = "Reshape"
    case transpose = "Transpose", flatten = "Flatten", squeeze = "Squeeze", unsqueeze = "Unsqueeze"
    case shape = "Shape", gather = "Gather", constant = "Constant", constantOfShape = "ConstantOfShape"
    case identity = "Identity", dropout = "Dropout", cast = "Cast"
    case gemm = "Gemm", matMul = "MatMul"
}

/// The operator table: op kind → kernel.
enum Operators {
    static func evaluate(_ kind: OperatorKind, _ context: NodeContext) throws(InterpreterError) -> [Buffer] {
        switch kind {
        case .conv: return [try Convolution.evaluate(context)]
        case .batchNormalization: return [try Normalization.batchNorm(context)]
        case .add: return [try BinaryOperator.add.evaluate(try context.input(0), try context.input(1), context)]
        case .sub: return [try BinaryOperator.sub.evaluate(try context.input(0), try context.input(1), context)]
        case .mul: return [try BinaryOperator.mul.evaluate(try context.input(0), try context.input(1), context)]
        case .div: return [try BinaryOperator.div.evaluate(try context.input(0), try context.input(1), context)]
        case .pow: return [try BinaryOperator.pow.evaluate(try context.input(0), try context.input(1), context)]
        case .prelu: return [try BinaryOperator.prelu.evaluate(try context.input(0), try context.input(1), context)]
        case .relu, .sigmoid, .tanh, .erf, .sqrt, .hardSwish, .leakyRelu, .hardSigmoid, .gelu, .clip:
            guard let unary = try activation(kind, context) else { throw context.fail("is not elementwise") }
            return [try unary.evaluate(try context.input(0), context)]
        case .softmax: return [try Normalization.softmax(context)]
        case .layerNormalization: return try Normalization.layerNorm(context)
        case .reduceMean: return [try Reduction.reduceMean(context)]
        case .globalAveragePool: return [try Pooling.evaluateGlobal(context, maximum: false)]
        case .globalMaxPool: return [try Pooling.evaluateGlobal(context, maximum: true)]
        case .averagePool: return [try Pooling.evaluateWindowed(context, maximum: false)]
        case .maxPool:
            guard context.node.outputs.count < 2 || context.node.outputs[1].isEmpty else {
                throw context.unsupported("Indices output", "requested")
            }
            if try context.int("storage_order", 0) != 0 { throw context.unsupported("storage_order", "1") }
            return [try Pooling.evaluateWindowed(context, maximum: true)]
        case .gemm: return [try MatrixProduct.gemm(context)]
        case .matMul: return [try MatrixProduct.matMul(context)]
        case .reshape: return [try ShapeOperators.reshape(context)]
        case .flatten: return [try ShapeOperators.flatten(context)]
        case .transpose: return [try ShapeOperators.transpose(context)]
        case .squeeze: return [try ShapeOperators.squeeze(context)]
        case .unsqueeze: return [try ShapeOperators.unsqueeze(context)]
        case .concat: return [try DataMovement.concat(context)]
        case .split: return try DataMovement.split(context)
        case .slice: return [try DataMovement.slice(context)]
        case .pad: return [try Padding.pad(context)]
        case .gather: return [try DataMovement.gather(context)]
        case .shape: return [try ShapeOperators.shape(context)]
        case .constantOfShape: return [try Constants.constantOfShape(context)]
        case .cast: return [try Constants.cast(context)]
        case .constant: return [try Constants.constant(context)]
        case .identity: return [try context.input(0)]
        case .dropout: return try dropout(context)
        }
    }

    /// The element function of a unary elementwise operator (with its attributes, and Clip's
    /// bounds), or nil for any other operator. A Conv's fused epilogue applies the same function.
    static func activation(_ kind: OperatorKind, _ context: NodeContext) throws(InterpreterError) -> UnaryOperator? {
        switch kind {
        case .relu: return .relu
        case .sigmoid: return .sigmoid
        case .tanh: return .tanh
        case .erf: return .erf
        case .sqrt: return .sqrt
        case .hardSwish: return .hardSwish
        case .leakyRelu: return .leakyRelu(alpha: Double(try context.float("alpha", 0.01)))
        case .hardSigmoid: return .hardSigmoid(alpha: Double(try context.float("alpha", 0.2)), beta: Double(try context.float("beta", 0.5)))
        case .gelu:
            let approximate = try context.string("approximate", "none")
            guard approximate == "none" || approximate == "tanh" else { throw context.unsupported("approximate", approximate) }
            return .gelu(tanhApproximation: approximate == "tanh")
        case .clip:
            let (low, high) = try clipBounds(context)
            return .clip(min: low, max: high)
        default: return nil
        }
    }

    /// Clip's bounds are attributes before opset 11, optional scalar inputs after.
    private static func clipBounds(_ context: NodeContext) throws(InterpreterError) -> (Double, Double) {
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
