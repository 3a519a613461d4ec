import GhostIR

extension OperatorRegistry {
    static let reductions = OperatorFamily(title: "Reductions, arg-reductions and sorting", operators: [
        reduction("ReduceSum", .sum, "Σ; `axes` attribute (< 13) or input (≥ 13); `keepdims`, `noop_with_empty_axes`; floats and integers (wrapping); 0 over no elements"),
        reduction("ReduceMean", .mean, "mean; `axes` attribute (< 18) or input (≥ 18); `keepdims`, `noop_with_empty_axes`; integers divide toward zero; 0 over no elements (as ONNX Runtime)"),
        reduction("ReduceProd", .product, "Π; axes as ReduceMean; floats and integers (wrapping); 1 over no elements"),
        reduction("ReduceMax", .maximum, "axes as ReduceMean; floats, integers, bool (≥ 20); −inf (the type's lowest) over no elements; a NaN first in a reduction gives NaN, a later one is passed over (ONNX Runtime's rule)"),
        reduction("ReduceMin", .minimum, "as ReduceMax with +inf (the type's highest) over no elements"),
        reduction("ReduceL1", .l1, "Σ|x|; axes as ReduceMean; integers in Int64"),
        reduction("ReduceL2", .l2, "√Σx²; axes as ReduceMean; integers truncate the root"),
        reduction("ReduceSumSquare", .sumSquare, "Σx²; axes as ReduceMean; integers wrap"),
        reduction("ReduceLogSum", .logSum, "log Σx; axes as ReduceMean; −inf over no elements"),
        reduction("ReduceLogSumExp", .logSumExp, "m + log Σ exp(x − m) with m the (finite) maximum; axes as ReduceMean; −inf over no elements"),
        OperatorDefinition("ArgMax", "`axis`, `keepdims`, `select_last_index` (≥ 12); int64 output; a NaN first along the axis wins, a later one is passed over (ONNX Runtime); an empty axis is refused") { context throws(InterpreterError) in
            try ArgReduction.evaluate(context, maximum: true)
        },
        OperatorDefinition("ArgMin", "as ArgMax") { context throws(InterpreterError) in
            try ArgReduction.evaluate(context, maximum: false)
        },
        OperatorDefinition("TopK", "`k` attribute (< 10) or input; `axis`, `largest`, `sorted` (≥ 11; unsorted output is sorted too); ties by lower index, NaN above every number; k outside 0…axis size refused", outputs: { context throws(InterpreterError) in
            try TopK.evaluate(context)
        }),
        OperatorDefinition("CumSum", "axis as a tensor; `exclusive`, `reverse`; floats and integers") { context throws(InterpreterError) in
            try CumulativeSum.evaluate(context)
        },
        OperatorDefinition("Einsum", "explicit (`->`) and implicit output, `...`, repeated indices (diagonals, traces); contractions as batched BLAS products; floats and integers; an unparsable equation or operand ranks not matching it are refused") { context throws(InterpreterError) in
            try Einsum.evaluate(context)
        },
    ])

    private static func reduction(_ opType: String, _ kind: ReductionKind, _ notes: String) -> OperatorDefinition {
        OperatorDefinition(opType, notes) { context throws(InterpreterError) in try Reduction.evaluate(context, kind) }
    }
}
