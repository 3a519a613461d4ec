import GhostIR

/// One convolution-like stage of a sequential merge: a Conv, or an AveragePool read as the
/// depthwise Conv it equals.
struct ConvStage {
    var weights: ConvWeights
    var geometry: ConvGeometry

    var inputChannels: Int { geometry.inputChannelsPerGroup * geometry.groups }
    var isPointwise: Bool { geometry.kernel.allSatisfy { $0 == 1 } }
    var hasPadding: Bool { geometry.pads.contains { $0 != 0 } }

    /// A Conv node's weights and geometry.
    static func conv(_ node: Node, index: GraphIndex) throws(Skip) -> ConvStage {
        let weights = try ConvWeights.read(node, index: index).get()
        guard let weight = index.constant(node.inputs[1]) else {
            throw Skip(.convWeightNotConstant, "Conv weight '\(node.inputs[1])' is not a constant")
        }
        let geometry = try ConvGeometry.read(node, weight: weight, inputShape: index.shape(of: node.inputs[0])).get()
        guard geometry.groups > 0, geometry.outputChannels % geometry.groups == 0 else {
            throw Skip(.convGroupInvalid, "Conv group \(geometry.groups) does not divide its \(geometry.outputChannels) output channels")
        }
        return ConvStage(weights: weights, geometry: geometry)
    }

    /// An AveragePool node over `channels` channels, with weights of `elementType`.
    static func averagePool(_ node: Node, channels: Int, elementType: ElementType, index: GraphIndex) throws(Skip) -> ConvStage {
        let geometry = try ConvGeometry.averagePool(node, channels: channels, inputShape: index.shape(of: node.inputs.first ?? "")).get()
        let weights = try ConvWeights.averagePool(channels: channels, kernel: geometry.kernel, elementType: elementType).get()
        return ConvStage(weights: weights, geometry: geometry)
    }
}

extension ConvWeights {
    /// The kernel's values in Float64, computed from the recipe's terms without rounding.
    func float64Kernel() throws(Skip) -> [Double] {
        let exact = ConvWeights(terms: terms, bias: bias, shape: shape, elementType: .float64)
        guard let weight = try? exact.tensors().weight else {
            throw Skip(.convWeightShape, "Conv weight of shape \(shape) is too large to combine")
        }
        return weight.doubleValues()
    }

    /// A kernel given by its Float64 values (rounded once, to `elementType`, when written).
    static func values(_ kernel: [Double], shape: [Int], bias: [Double], elementType: ElementType) throws(Skip) -> ConvWeights {
        guard let tensor = try? Tensor(float64: kernel, shape: shape) else {
            throw Skip(.convWeightShape, "a combined kernel of shape \(shape) cannot be stored")
        }
        return ConvWeights(terms: [Term(source: .tensor(tensor), spatial: Array(shape.dropFirst(2)), factor: nil)],
                           bias: bias, shape: shape, elementType: elementType)
    }
}

/// The product of two convolution stages where one of them is pointwise (1×1…), as dense
/// channel maps: with A: C → M in gA groups and B: M → O in gB groups,
///
///     K[o, c, u] = Σ_m B[o, m, u_B] · A[m, c, u_A]       (the pointwise side's u is 0)
///     b[o]       = b_B[o] + Σ_m Σ_u B[o, m, u] · b_A[m]
///
/// where the sums run over the m both groupings connect. With gA = gB = g the product keeps g
/// groups; with one of them 1 it is dense (group 1).
enum ConvComposition {
    static func compose(first a: ConvStage, then b: ConvStage, groups: Int) throws(Skip) -> (kernel: [Double], shape: [Int], bias: [Double]) {
        let kernelA = try a.weights.float64Kernel(), kernelB = try b.weights.float64Kernel()
        let spatial = a.isPointwise ? b.geometry.kernel : a.geometry.kernel
        guard let positions = checkedProduct(spatial) else { throw Skip(.convWeightShape, "kernel \(spatial) is too large") }
        let middle = a.geometry.outputChannels, outputs = b.geometry.outputChannels, inputs = a.inputChannels
        let perGroupIn = inputs / groups, perGroupOut = outputs / groups
        guard let elements = checkedProduct([outputs, perGroupIn, positions]), elements <= 1 << 26 else {
            throw Skip(.convWeightShape, "the combined kernel [\(outputs), \(perGroupIn)] × \(spatial) is too large")
        }
        let aIn = a.geometry.inputChannelsPerGroup, aOutPerGroup = middle / a.geometry.groups
        let bIn = b.geometry.inputChannelsPerGroup, bOutPerGroup = outputs / b.geometry.groups
        // Positions per output channel row of each source kernel (1 on the pointwise side).
        let aPositions = a.isPointwise ? 1 : positions, bPositions = a.isPointwise ? positions : 1
        var kernel = [Double](repeating: 0, count: elements)
        var bias = b.weights.bias
        for o in 0..<outputs {
            let bGroup = o / bOutPerGroup
            let mStartB = bGroup * bIn, mEndB = mStartB + bIn
            let resultGroup = o / perGroupOut
            for m in mStartB..<mEndB {
                let bRow = (o * bIn + (m - mStartB)) * bPositions
                var tapSum = 0.0
                for u in 0..<bPositions { tapSum += kernelB[bRow + u] }
                bias[o] += tapSum * a.weights.bias[m]
                // Input channels A connects to m, restricted to o's result group.
                let aGroup = m / aOutPerGroup
                let cStart = max(aGroup * aIn, resultGroup * perGroupIn), cEnd = min(aGroup * aIn + aIn, (resultGroup + 1) * perGroupIn)
                guard cStart < cEnd else { continue }
                for c in cStart..<cEnd {
                    let aRow = (m * aIn + (c - aGroup * aIn)) * aPositions
                    let target = (o * perGroupIn + (c - resultGroup * perGroupIn)) * positions
                    if a.isPointwise {
                        let factor = kernelA[aRow]
                        for u in 0..<positions { kernel[target + u] += kernelB[bRow + u] * factor }
                    } else {
                        let factor = kernelB[bRow]
                        for u in 0..<positions { kernel[target + u] += kernelA[aRow + u] * factor }
                    }
                }
            }
        }
        return (kernel, [outputs, perGroupIn] + spatial, bias)
    }
}
