import GhostIR

extension OperatorRegistry {
    static let normalization = OperatorFamily(title: "Normalization", operators: [
        OperatorDefinition(
            "BatchNormalization",
            "inference only; `training_mode=1` unsupported. Computed in ONNX Runtime's order: s = γ·(1/√(σ²+ε)), y = x·s + (β − μ·s)",
            role: .batchNormalization,
            prepare: { context, _ in
                guard context.inputs.count == 5, context.inputs.dropFirst().allSatisfy({ $0 != nil }),
                      let coefficients = try? Normalization.batchNormCoefficients(context) else { return nil }
                return PreparedNode(batchNorm: coefficients)
            },
            Normalization.batchNorm),
        OperatorDefinition(
            "LayerNormalization",
            "`axis`, `epsilon`, scale and optional bias (full size or one element); Mean and InvStdDev outputs",
            outputs: Normalization.layerNorm),
        OperatorDefinition(
            "Softmax",
            "opset ≥ 13: one axis (default −1); before 13: coerced to 2-D at `axis` (default 1)",
            Normalization.softmax),
        OperatorDefinition(
            "InstanceNormalization",
            "`epsilon`; N×C×D1… (rank ≥ 3), scale and B per channel. ONNX Runtime's arithmetic: μ and σ² of each channel's plane (two passes), s = scale·(1/√(σ²+ε)), y = x·s + (B − μ·s)",
            GroupedNormalization.instanceNorm),
        OperatorDefinition(
            "GroupNormalization",
            "`num_groups` (dividing C), `epsilon`, `stash_type` (float32, or float64 statistics; float16/bfloat16 refused); scale and bias per group (opset 18) or per channel (opset 21); y = scale·(x − μ)/√(σ²+ε) + bias, μ and σ² over each group's channels and positions (two passes)",
            GroupedNormalization.groupNorm),
        OperatorDefinition(
            "LpNormalization",
            "`axis` (default −1), `p` 1 or 2 (others refused); y = x/‖x‖ₚ, 0 where the norm is 0 (as ONNX Runtime)",
            LocalNormalization.lpNorm),
        OperatorDefinition(
            "LRN",
            "`alpha`, `beta`, `bias`, `size` (any positive size; the window c − ⌊(size−1)/2⌋ … c + ⌈(size−1)/2⌉), across channels of N×C×D1…; y = x·(bias + α/size·Σx²)^(−β), the window sum slid channel to channel as in ONNX Runtime (a NaN or ±inf makes the later channels at that position NaN)",
            LocalNormalization.lrn),
        OperatorDefinition(
            "MeanVarianceNormalization",
            "`axes` (default [0, 2, 3]; out-of-range axes dropped and repeats ignored, as ONNX Runtime does); y = (x − E[x])/√E[(x − E[x])²] without ε, as ONNX Runtime's kernel (a constant slice gives NaN)",
            LocalNormalization.meanVarianceNorm),
    ])
}
