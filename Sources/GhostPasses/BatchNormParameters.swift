import GhostIR

/// An inference BatchNormalization as a per-channel affine map y = s·x + t, in Float64:
/// s = γ / √(σ² + ε), t = β − μ·s.
struct BatchNormParameters {
    let scale: [Double]
    let shift: [Double]

    var channels: Int { scale.count }

    /// Reads the node's constants; a reason when they are not constants, disagree in length, or
    /// the node is in training mode. `position` (the node's index in the indexed graph, when the
    /// caller has it) lets the constants be found by slot rather than by name.
    static func read(_ node: Node, index: GraphIndex, position: Int? = nil) -> Result<BatchNormParameters, Skip> {
        if node.attribute("training_mode")?.intValue == 1 {
            return .failure(Skip(.batchNormTrainingMode, "BatchNormalization has training_mode=1; only inference BN can be folded"))
        }
        if node.attribute("spatial")?.intValue == 0 {
            return .failure(Skip(.batchNormPerElement, "BatchNormalization has spatial=0 (per-element statistics)"))
        }
        guard node.inputs.count == 5 else {
            return .failure(Skip(.batchNormInputs, "BatchNormalization has \(node.inputs.count) inputs, expected 5"))
        }
        for output in node.outputs.dropFirst() where !output.isEmpty && index.consumers[output] != nil {
            return .failure(Skip(.batchNormStatisticsUsed, "BatchNormalization's running statistics outputs are used"))
        }
        // γ, β, μ, σ² read in place (no Double copy of each): this runs once per BN site.
        var vectors: [Tensor] = []
        vectors.reserveCapacity(4)
        for (k, (role, value)) in zip(Self.roles, node.inputs[1...]).enumerated() {
            let found = position.map { index.constantInput(k + 1, ofNode: $0) } ?? index.constant(value)
            guard let tensor = found, tensor.elementType.isFloatingPoint else {
                return .failure(Skip(.batchNormParameterNotConstant, "BatchNormalization \(role) '\(value)' is not a constant"))
            }
            vectors.append(tensor)
        }
        let lengths = vectors.map(Self.valueCount)
        let channels = lengths[0]
        guard lengths.allSatisfy({ $0 == channels }) else {
            return .failure(Skip(.batchNormParameterLengths, "BatchNormalization parameters have different lengths \(lengths)"))
        }
        let epsilon = Double(node.attribute("epsilon")?.floatValue ?? 1e-5)
        var scale = [Double](repeating: 0, count: channels)
        var shift = [Double](repeating: 0, count: channels)
        let gamma = FloatingValues(vectors[0]), beta = FloatingValues(vectors[1])
        let mean = FloatingValues(vectors[2]), variance = FloatingValues(vectors[3])
        for channel in 0..<channels {
            let denominator = variance[channel] + epsilon
            guard denominator > 0 else {
                return .failure(Skip(.batchNormVarianceNotPositive, "BatchNormalization channel \(channel) has var + epsilon = \(denominator) ≤ 0"))
            }
            scale[channel] = gamma[channel] / denominator.squareRoot()
            shift[channel] = beta[channel] - mean[channel] * scale[channel]
        }
        return .success(BatchNormParameters(scale: scale, shift: shift))
    }

    private static let roles = ["scale", "B", "mean", "var"]

    /// The number of values `Tensor.doubleValues()` gives (none for 16-bit floats).
    private static func valueCount(_ tensor: Tensor) -> Int {
        tensor.elementType == .float32 || tensor.elementType == .float64 ? tensor.elementCount : tensor.doubleValues().count
    }
}

/// The values of a floating-point tensor as Double, read from its bytes where they lie (float32
/// and float64; any other type through one `doubleValues()` copy).
struct FloatingValues {
    private let bytes: UnsafeRawBufferPointer
    private let isDouble: Bool
    private let copied: [Double]?
    /// Keeps the bytes alive while they are read.
    private let storage: TensorStorage

    init(_ tensor: Tensor) {
        storage = tensor.storage
        bytes = tensor.storage.bytes
        isDouble = tensor.elementType == .float64
        copied = tensor.elementType == .float32 || tensor.elementType == .float64 ? nil : tensor.doubleValues()
    }

    subscript(position: Int) -> Double {
        if let copied { return copied[position] }
        return isDouble ? bytes.loadUnaligned(fromByteOffset: position * 8, as: Double.self)
            : Double(bytes.loadUnaligned(fromByteOffset: position * 4, as: Float.self))
    }
}
