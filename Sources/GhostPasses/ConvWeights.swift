import GhostIR

/// A Conv's weight and bias while a rewrite combines them.
///
/// The bias is a Float64 vector. The kernel is kept as a sum of terms, each a source kernel times
/// a per-output-channel factor, centred in the final spatial size. The new initializer is
/// deferred storage with these weights as its recipe (`TensorStorage(deferredByteCount:…)`): its
/// values are computed when something first reads them (the writer, the interpreter), one output
/// channel at a time in Float64 and rounded once to the element type. A later rewrite that reads
/// the Conv takes the recipe's terms instead (`read`), so a fold, then a pad, then a merge
/// compute the merged kernel once, from the original weights: no Float64 copy of a whole kernel,
/// no zero-padded copy of a small branch, no folded kernel that only a merge reads, and one
/// rounding for the whole chain.
struct ConvWeights: Sendable {
    enum Source: Sendable {
        /// A Conv's weight, [O, I/g, k…], float32 or float64.
        case tensor(Tensor)
        /// The identity: K[o, o mod I/g, 0…] = 1 with a 1×1… kernel.
        case identity
    }

    /// factor[o] · source, centred in the final kernel.
    struct Term: Sendable {
        var source: Source
        /// The source's spatial kernel size (all ones for the identity).
        var spatial: [Int]
        /// Per output channel; nil means 1.
        var factor: [Double]?
    }

    private(set) var terms: [Term]
    var bias: [Double]
    /// The final weight shape [O, I/g, k…].
    private(set) var shape: [Int]
    let elementType: ElementType

    var outputChannels: Int { shape[0] }
    /// Elements per output channel (I/g · k…).
    var perChannel: Int { shape.dropFirst().reduce(1, *) }

    /// The weight and bias of `node` (a Conv); a missing bias is zeros. `position` (the node's
    /// index in the indexed graph, when the caller has it) lets them be found by slot.
    static func read(_ node: Node, index: GraphIndex, position: Int? = nil) -> Result<ConvWeights, Skip> {
        func constant(_ k: Int) -> Tensor? {
            if let position { return index.constantInput(k, ofNode: position) }
            return index.constant(node.inputs[k])
        }
        guard node.inputs.count >= 2, let weight = constant(1) else {
            return .failure(Skip(.convWeightNotConstant, "Conv weight '\(node.inputs.count >= 2 ? node.inputs[1] : "")' is not a constant"))
        }
        guard weight.elementType == .float32 || weight.elementType == .float64 else {
            return .failure(Skip(.convWeightType, "Conv weight is \(weight.elementType), only float and double are folded"))
        }
        guard weight.rank >= 3, weight.shape[0] > 0 else {
            return .failure(Skip(.convWeightShape, "Conv weight has shape \(weight.shape)"))
        }
        var bias = [Double](repeating: 0, count: weight.shape[0])
        if node.inputs.count >= 3, !node.inputs[2].isEmpty {
            guard let tensor = constant(2) else {
                return .failure(Skip(.convBiasNotConstant, "Conv bias '\(node.inputs[2])' is not a constant"))
            }
            guard tensor.elementCount == weight.shape[0] else {
                return .failure(Skip(.convBiasLength, "Conv bias has \(tensor.elementCount) values for \(weight.shape[0]) output channels"))
            }
            if tensor.elementType == .float32 || tensor.elementType == .float64 {
                let values = FloatingValues(tensor)
                for channel in bias.indices { bias[channel] = values[channel] }
            } else {
                bias = tensor.doubleValues()
            }
        }
        // A weight an earlier rewrite made and nothing has read yet: combine its terms.
        if let pending = weight.storage.recipe, let recipe = pending as? ConvWeights, recipe.shape == weight.shape,
           recipe.elementType == weight.elementType {
            return .success(ConvWeights(terms: recipe.terms, bias: bias, shape: recipe.shape, elementType: recipe.elementType))
        }
        let term = Term(source: .tensor(weight), spatial: Array(weight.shape.dropFirst(2)), factor: nil)
        return .success(ConvWeights(terms: [term], bias: bias, shape: weight.shape, elementType: weight.elementType))
    }

    /// K[o, o mod perGroup, 0…] = scale[o] with a 1×1… kernel, bias = shift: a per-channel affine
    /// map (an inference BatchNormalization, or the identity) as a grouped Conv.
    static func identity(
        scale: [Double], shift: [Double], inputChannelsPerGroup: Int, spatialRank: Int, elementType: ElementType
    ) -> ConvWeights {
        let spatial = [Int](repeating: 1, count: spatialRank)
        return ConvWeights(terms: [Term(source: .identity, spatial: spatial, factor: scale)], bias: shift,
                           shape: [scale.count, inputChannelsPerGroup] + spatial, elementType: elementType)
    }

    /// Multiplies output channel o by factor[o] (kernel and bias).
    mutating func scaleOutputChannels(by factor: [Double]) {
        for position in terms.indices {
            if let current = terms[position].factor {
                terms[position].factor = zip(current, factor).map { $0 * $1 }
            } else {
                terms[position].factor = factor
            }
        }
        for channel in 0..<outputChannels { bias[channel] *= factor[channel] }
    }

    /// Adds shift[o] to the bias of output channel o.
    mutating func shiftOutputChannels(by shift: [Double]) {
        for channel in 0..<outputChannels { bias[channel] += shift[channel] }
    }

    /// The same weights with a larger spatial kernel, each term centred in it (zeros around):
    ///     K'[o, i, a + (K−k)/2, …] = K[o, i, a, …]
    func centred(in spatial: [Int]) -> ConvWeights {
        var result = self
        result.shape = Array(shape.prefix(2)) + spatial
        return result
    }

    /// Adds another Conv's weights of the same final shape (a merge of parallel branches; the
    /// caller checks the shapes).
    mutating func add(_ other: ConvWeights) {
        terms += other.terms
        for channel in bias.indices { bias[channel] += other.bias[channel] }
    }

    /// Weight and bias tensors, each value rounded once to the element type; the weight's values
    /// are computed when first read (see the type's description).
    func tensors() throws(TensorError) -> (weight: Tensor, bias: Tensor) {
        let recipe = self
        let (elements, overflow) = outputChannels.multipliedReportingOverflow(by: perChannel)
        guard !overflow, elements <= Int.max / 8 else { throw .sizeOverflow(shape: shape) }
        switch elementType {
        case .float64:
            let storage = TensorStorage(deferredByteCount: elements * 8, recipe: recipe) { raw in
                recipe.materialize(into: raw.bindMemory(to: Double.self))
            }
            return (try Tensor(elementType: .float64, shape: shape, storage: storage), try Tensor(float64: bias, shape: [outputChannels]))
        default:
            let storage = TensorStorage(deferredByteCount: elements * 4, recipe: recipe) { raw in
                recipe.materialize(into: raw.bindMemory(to: Float.self))
            }
            return (try Tensor(elementType: .float32, shape: shape, storage: storage),
                    try Tensor(float32: bias.map { Float($0) }, shape: [outputChannels]))
        }
    }

    /// The kernel, one output channel at a time: each term's values times its factor, summed in
    /// Float64 at their centred positions, then rounded once. (A single term of the final size —
    /// every fold — is scaled straight into the output, which is the same arithmetic.)
    private func materialize<Element: BinaryFloatingPoint>(into output: UnsafeMutableBufferPointer<Element>) {
        let channels = outputChannels, perChannel = perChannel, inner = shape[1]
        let largeSpatial = Array(shape.dropFirst(2))
        let largeSize = largeSpatial.reduce(1, *)
        let identityOffset = Self.centredOffsets(of: largeSpatial.map { _ in 1 }, in: largeSpatial)[0]
        // Per term, resolved once: its source, where its positions land, and its factors.
        let plans = terms.map { term in
            (source: term.source, offsets: Self.centredOffsets(of: term.spatial, in: largeSpatial),
             factor: term.factor ?? [Double](repeating: 1, count: channels))
        }
        if plans.count == 1, case .tensor(let tensor) = plans[0].source, plans[0].offsets.count == largeSize {
            let factor = plans[0].factor
            if tensor.elementType == .float64 {
                Self.scale(tensor.storage.bytes.bindMemory(to: Double.self), by: factor, perChannel: perChannel, into: output)
            } else {
                Self.scale(tensor.storage.bytes.bindMemory(to: Float.self), by: factor, perChannel: perChannel, into: output)
            }
            return
        }
        var sum = [Double](repeating: 0, count: perChannel)
        sum.withUnsafeMutableBufferPointer { sum in
            for channel in 0..<channels {
                for position in 0..<perChannel { sum[position] = 0 }
                for plan in plans {
                    let factor = plan.factor[channel]
                    switch plan.source {
                    case .identity:
                        sum[(channel % inner) * largeSize + identityOffset] += factor
                    case .tensor(let tensor):
                        let base = channel * inner * plan.offsets.count
                        if tensor.elementType == .float64 {
                            Self.accumulate(tensor.storage.bytes.bindMemory(to: Double.self), from: base, inner: inner,
                                            offsets: plan.offsets, largeSize: largeSize, factor: factor, into: sum)
                        } else {
                            Self.accumulate(tensor.storage.bytes.bindMemory(to: Float.self), from: base, inner: inner,
                                            offsets: plan.offsets, largeSize: largeSize, factor: factor, into: sum)
                        }
                    }
                }
                let destination = channel * perChannel
                for position in 0..<perChannel { output[destination + position] = Element(sum[position]) }
            }
        }
    }

    /// output[o·perChannel + j] = round(factor[o] · source[o·perChannel + j]), in Float64.
    private static func scale<Source: BinaryFloatingPoint, Element: BinaryFloatingPoint>(
        _ source: UnsafeBufferPointer<Source>, by factor: [Double], perChannel: Int, into output: UnsafeMutableBufferPointer<Element>
    ) {
        factor.withUnsafeBufferPointer { factor in
            for channel in 0..<factor.count {
                let f = factor[channel], base = channel * perChannel
                for position in base..<(base + perChannel) { output[position] = Element(Double(source[position]) * f) }
            }
        }
    }

    /// sum[i·largeSize + offsets[p]] += factor · source[base + i·smallSize + p].
    private static func accumulate<Source: BinaryFloatingPoint>(
        _ source: UnsafeBufferPointer<Source>, from base: Int, inner: Int, offsets: [Int], largeSize: Int,
        factor: Double, into sum: UnsafeMutableBufferPointer<Double>
    ) {
        let smallSize = offsets.count
        if smallSize == largeSize {
            for position in 0..<(inner * smallSize) { sum[position] += Double(source[base + position]) * factor }
            return
        }
        for row in 0..<inner {
            for (position, offset) in offsets.enumerated() {
                sum[row * largeSize + offset] += Double(source[base + row * smallSize + position]) * factor
            }
        }
    }

    /// For each position of a `small` kernel (C order), its index in a `large` kernel when centred.
    private static func centredOffsets(of small: [Int], in large: [Int]) -> [Int] {
        var offsets: [Int] = []
        offsets.reserveCapacity(small.reduce(1, *))
        var coordinates = [Int](repeating: 0, count: small.count)
        for _ in 0..<small.reduce(1, *) {
            var target = 0
            for axis in small.indices { target = target * large[axis] + coordinates[axis] + (large[axis] - small[axis]) / 2 }
            offsets.append(target)
            // Next coordinates, last axis fastest.
            var axis = small.count - 1
            while axis >= 0 {
                coordinates[axis] += 1
                if coordinates[axis] < small[axis] { break }
                coordinates[axis] = 0
                axis -= 1
            }
        }
        return offsets
    }
}

extension GraphEditor {
    /// A Conv node reading `input` with new weight and bias initializers. `reading` is what the
    /// node of this name read before (its inputs): a preferred weight name among them is taken,
    /// so the search for a free one starts past it (a Conv rewritten by a second pass reads the
    /// `.weight` and `.bias` the first one named) — the same name, one lookup fewer.
    mutating func makeConv(
        named name: String, input: String, weights: ConvWeights, attributes: [Attribute],
        output: String, fusedFrom: [String], pass: String, reading: [String] = []
    ) throws(PassError) -> Node {
        let (weight, bias): (Tensor, Tensor)
        do {
            (weight, bias) = try weights.tensors()
        } catch {
            throw .invalidTensor(pass: pass, node: name, problem: "\(error)")
        }
        let preferredWeight = "\(name).weight", preferredBias = "\(name).bias"
        let weightName = addInitializer(weight, preferredName: preferredWeight, isTaken: reading.contains(preferredWeight))
        let biasName = addInitializer(bias, preferredName: preferredBias, isTaken: reading.contains(preferredBias))
        return Node(name: name, opType: "Conv", inputs: [input, weightName, biasName], outputs: [output],
                    attributes: attributes, fusedFrom: fusedFrom)
    }
}

extension GraphEditor {
    /// The rewrite of every "fold X into the Conv before it" rule: the Conv at `convIndex` and
    /// the node at `followerIndex` (which reads only it) become one Conv with `weights`, keeping
    /// the Conv's name and attributes and taking the follower's output name.
    mutating func foldIntoConv(
        convIndex: Int, followerIndex: Int, weights: ConvWeights, index: GraphIndex, pass: String
    ) throws(PassError) -> Rewrite {
        // Fields read in place: copying the two nodes would retain and release all their fields.
        let nodes = index.graph.nodes
        let fused = try makeConv(
            named: nodes[convIndex].name, input: nodes[convIndex].inputs[0], weights: weights, attributes: nodes[convIndex].attributes,
            output: nodes[followerIndex].outputs[0], fusedFrom: provenance(of: convIndex, in: nodes) + provenance(of: followerIndex, in: nodes),
            pass: pass, reading: nodes[convIndex].inputs)
        // Reported before the node is moved into the edit.
        let rewrite = Rewrite(replaced: [convIndex, followerIndex], result: fused.name, in: index)
        replace([convIndex, followerIndex], with: fused)
        return rewrite
    }
}

/// Provenance of a node: the source nodes it stands for (itself, if it is a source node).
func provenance(_ node: Node) -> [String] {
    node.fusedFrom.isEmpty ? [node.name] : node.fusedFrom
}

/// `provenance(nodes[position])` without copying the node.
func provenance(of position: Int, in nodes: [Node]) -> [String] {
    nodes[position].fusedFrom.isEmpty ? [nodes[position].name] : nodes[position].fusedFrom
}
