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
    ])
}
