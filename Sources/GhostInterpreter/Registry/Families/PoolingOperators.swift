import GhostIR

extension OperatorRegistry {
    static let pooling = OperatorFamily(title: "Pooling and reductions", operators: [
        OperatorDefinition("GlobalAveragePool", "any spatial rank") { context throws(InterpreterError) in
            try Pooling.evaluateGlobal(context, maximum: false)
        },
        OperatorDefinition("GlobalMaxPool", "any spatial rank") { context throws(InterpreterError) in
            try Pooling.evaluateGlobal(context, maximum: true)
        },
        OperatorDefinition(
            "AveragePool",
            "1-D and 2-D; `kernel_shape`, `strides`, `pads`, `dilations`, `auto_pad`, `ceil_mode` (a last window starting in the end padding is dropped), `count_include_pad` (counts the padded extent, not beyond it). Pads must be smaller than the dilated kernel (ONNX Runtime: than the kernel). 3-D pooling unsupported"
        ) { context throws(InterpreterError) in
            try Pooling.evaluateWindowed(context, maximum: false)
        },
        OperatorDefinition(
            "MaxPool",
            "as AveragePool; the Indices output, `storage_order=1`, integer inputs and 3-D pooling unsupported"
        ) { context throws(InterpreterError) in
            guard context.node.outputs.count < 2 || context.node.outputs[1].isEmpty else {
                throw context.unsupported("Indices output", "requested")
            }
            if try context.int("storage_order", 0) != 0 { throw context.unsupported("storage_order", "1") }
            return try Pooling.evaluateWindowed(context, maximum: true)
        },
    ])
}
