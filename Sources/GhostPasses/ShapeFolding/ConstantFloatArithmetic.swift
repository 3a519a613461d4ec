import GhostIR

extension ConstantEvaluator {
    /// Float32 and float64 Add/Sub/Mul/Div with numpy broadcasting, and Sqrt, each computed in the
    /// operands' own type: one IEEE operation per element, correctly rounded, which is what ONNX
    /// Runtime computes for these nodes (no contraction across nodes), so folding them changes no
    /// value. NaN and ±inf come out as IEEE arithmetic gives them (x/0 = ±inf, √−1 = NaN).
    ///
    /// The exporters leave such chains on constants where a module computes with its own
    /// parameters — TorchScript without constant folding writes DBB's pad value
    /// β − μ·γ/√(σ²+ε) as Sub/Mul/Div/Sqrt/Add nodes over the BatchNormalization's tensors.
    static func floatArithmetic(_ op: String, _ a: Tensor, _ b: Tensor) throws(FoldFailure) -> Tensor {
        let shape = try broadcastShape(a.shape, b.shape)
        let count = try checkedCount(shape)
        let leftOffsets = offsets(from: a.shape, to: shape, count: count)
        let rightOffsets = offsets(from: b.shape, to: shape, count: count)
        func combine<T: BinaryFloatingPoint>(_ left: [T], _ right: [T]) -> [T] {
            var values: [T] = []
            values.reserveCapacity(count)
            for position in 0..<count {
                let x = left[leftOffsets[position]], y = right[rightOffsets[position]]
                switch op {
                case "Add": values.append(x + y)
                case "Sub": values.append(x - y)
                case "Mul": values.append(x * y)
                default: values.append(x / y)
                }
            }
            return values
        }
        switch a.elementType {
        case .float32:
            let values = combine(a.elements(as: Float.self), b.elements(as: Float.self))
            return try make(.float32, shape: shape, bytes: values.withUnsafeBytes { Array($0) })
        default:
            let values = combine(a.elements(as: Double.self), b.elements(as: Double.self))
            return try make(.float64, shape: shape, bytes: values.withUnsafeBytes { Array($0) })
        }
    }

    /// Sqrt of a float32 or float64 constant, in its own type.
    static func squareRoot(_ a: Tensor) throws(FoldFailure) -> Tensor {
        switch a.elementType {
        case .float32:
            let values = a.elements(as: Float.self).map { $0.squareRoot() }
            return try make(.float32, shape: a.shape, bytes: values.withUnsafeBytes { Array($0) })
        case .float64:
            let values = a.elements(as: Double.self).map { $0.squareRoot() }
            return try make(.float64, shape: a.shape, bytes: values.withUnsafeBytes { Array($0) })
        default:
            throw FoldFailure(.foldTypeUnsupported, "Sqrt is folded for float32/float64, not \(a.elementType)")
        }
    }
}
