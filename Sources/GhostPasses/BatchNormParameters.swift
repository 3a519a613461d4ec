import GhostIR

/// An inference BatchNormalization as a per-channel affine map y = s·x + t, in Float64:
/// s = γ / √(σ² + ε), t = β − μ·s.
struct BatchNormParameters {
    let scale: [Double]
    let shift: [Double]

    var channels: Int { scale.count }

    /// Reads the node's constants; a reason when they are not constants, disagree in length, or
    /// the node is in training mode.
    static func read(_ node: Node, index: GraphIndex) -> Result<BatchNormParameters, Skip> {
        if node.attribute("training_mode")?.intValue == 1 {
            return .failure(Skip(.batchNormTrainingMode, "BatchNormalization has training_mode=1; only inference BN can be folded"))
        }
        if node.attribute("spatial")?.intValue == 0 {
            return .failure(Skip(.batchNormPerElement, "BatchNormalization has spatial=0 (per-element statistics)"))
        }
        guard node.inputs.count == 5 else {
            return .failure(Skip(.batchNormInputs, "BatchNormalization has \(node.inputs.count) inputs, expected 5"))
        }
        let extraOutputs = node.outputs.dropFirst().filter { !$0.isEmpty && index.consumers[$0] != nil }
        guard extraOutputs.isEmpty else {
            return .failure(Skip(.batchNormStatisticsUsed, "BatchNormalization's running statistics outputs are used"))
        }
        var vectors: [[Double]] = []
        for (role, value) in zip(["scale", "B", "mean", "var"], node.inputs[1...]) {
            guard let tensor = index.constant(value), tensor.elementType.isFloatingPoint else {
                return .failure(Skip(.batchNormParameterNotConstant, "BatchNormalization \(role) '\(value)' is not a constant"))
            }
            vectors.append(tensor.doubleValues())
        }
        let channels = vectors[0].count
        guard vectors.allSatisfy({ $0.count == channels }) else {
            return .failure(Skip(.batchNormParameterLengths, "BatchNormalization parameters have different lengths \(vectors.map(\.count))"))
        }
        let epsilon = Double(node.attribute("epsilon")?.floatValue ?? 1e-5)
        var scale = [Double](repeating: 0, count: channels)
        var shift = [Double](repeating: 0, count: channels)
        for channel in 0..<channels {
            let variance = vectors[3][channel] + epsilon
            guard variance > 0 else {
                return .failure(Skip(.batchNormVarianceNotPositive, "BatchNormalization channel \(channel) has var + epsilon = \(variance) ≤ 0"))
            }
            scale[channel] = vectors[0][channel] / variance.squareRoot()
            shift[channel] = vectors[1][channel] - vectors[2][channel] * scale[channel]
        }
        return .success(BatchNormParameters(scale: scale, shift: shift))
    }
}
