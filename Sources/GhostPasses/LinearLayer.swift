import GhostIR

/// A linear layer while a rewrite folds a per-feature affine map into it: `Gemm`, or `MatMul`
/// with a constant 2-D weight and an optional constant bias `Add` after it (the dynamo
/// exporter's `nn.Linear`), as y = x·W + b with W [K, N] and b [N] in Float64.
///
/// Gemm's `alpha`, `beta` and `transB` are absorbed (`alpha·B'`, `beta·C`); `transA=1` is
/// refused (its input rows are columns of A).
struct LinearLayer {
    enum Form { case gemm(transB: Bool), matMul }

    let form: Form
    /// The Gemm or MatMul node.
    let main: Int
    /// The bias Add after a MatMul.
    let biasAdd: Int?
    let input: String
    /// The layer's output value (the bias Add's, when there is one).
    let output: String
    let inFeatures: Int, outFeatures: Int
    /// [K, N], row-major.
    var weight: [Double]
    var bias: [Double]?
    let elementType: ElementType
    /// The rank of x (and y), when known: Gemm's is 2.
    let rank: Int?

    var nodes: [Int] { [main] + (biasAdd.map { [$0] } ?? []) }

    /// The layer whose output is `value`: a Gemm, a MatMul, or a constant Add after a MatMul
    /// that nothing else reads.
    static func producing(_ value: String, index: GraphIndex) -> Int? {
        guard let (producerIndex, producer) = index.producerNode(of: value) else { return nil }
        if producer.isONNX("Gemm") || producer.isONNX("MatMul") { return producerIndex }
        if producer.isONNX("Add"), producer.inputs.count == 2, biasOperand(of: producer, index: index) != nil { return producerIndex }
        return nil
    }

    /// Whether the Gemm or MatMul at `position` multiplies by a constant (or a Transpose of one):
    /// a product of two computed values (attention's q·kᵀ) is no linear layer.
    static func hasConstantWeight(_ position: Int, index: GraphIndex) -> Bool {
        let node = index.node(position)
        guard node.inputs.count >= 2 else { return false }
        return (try? constantMatrix(node.inputs[1], index: index)) != nil
    }

    /// The constant side (0 or 1) of an Add whose other operand is a MatMul's output.
    static func biasOperand(of add: Node, index: GraphIndex) -> Int? {
        guard add.inputs.count == 2 else { return nil }
        for side in 0..<2 where index.constant(add.inputs[side]) != nil && index.producerNode(of: add.inputs[1 - side])?.node.isONNX("MatMul") == true {
            return side
        }
        return nil
    }

    /// Reads the layer at `position` (a Gemm, a MatMul, or the bias Add of a MatMul).
    /// `followBias`: for a MatMul, take a constant Add that is its only reader as its bias.
    static func read(at position: Int, index: GraphIndex, followBias: Bool) throws(Skip) -> LinearLayer {
        let node = index.node(position)
        if node.isONNX("Gemm") { return try gemm(position, index: index) }
        if node.isONNX("Add"), let side = biasOperand(of: node, index: index), let (matMul, _) = index.producerNode(of: node.inputs[1 - side]) {
            _ = try index.soleConsumer(of: node.inputs[1 - side], producedBy: index.name(matMul)).get()
            return try self.matMul(matMul, biasAdd: (position, side), index: index)
        }
        if followBias, let output = node.outputs.first, !index.isGraphOutput(output), let readers = index.consumers[output],
           readers.count == 1, index.node(readers[0]).isONNX("Add"), let side = biasOperand(of: index.node(readers[0]), index: index) {
            return try matMul(position, biasAdd: (readers[0], side), index: index)
        }
        return try matMul(position, biasAdd: nil, index: index)
    }

    private static func gemm(_ position: Int, index: GraphIndex) throws(Skip) -> LinearLayer {
        let node = index.node(position)
        guard node.inputs.count >= 2 else { throw Skip(.linearWeightNotConstant, "Gemm has no weight input") }
        if node.attribute("transA")?.intValue ?? 0 != 0 {
            throw Skip(.linearAttributeUnsupported, "Gemm has transA=1: its input's rows are not samples")
        }
        let transB = node.attribute("transB")?.intValue ?? 0 != 0
        let alpha = Double(node.attribute("alpha")?.floatValue ?? 1), beta = Double(node.attribute("beta")?.floatValue ?? 1)
        let b = try constantMatrix(node.inputs[1], index: index)
        let (k, n) = transB ? (b.shape[1], b.shape[0]) : (b.shape[0], b.shape[1])
        var weight = [Double](repeating: 0, count: k * n)
        let values = b.doubleValues()
        for row in 0..<k {
            for column in 0..<n { weight[row * n + column] = alpha * (transB ? values[column * k + row] : values[row * n + column]) }
        }
        var bias: [Double]?
        if node.inputs.count >= 3, !node.inputs[2].isEmpty {
            guard let c = index.constant(node.inputs[2]), c.elementType.isFloatingPoint else {
                throw Skip(.linearWeightNotConstant, "Gemm bias '\(node.inputs[2])' is not a floating-point constant")
            }
            guard c.elementCount == 1 || (c.shape.last == n && c.shape.dropLast().allSatisfy { $0 == 1 } && c.rank <= 2) else {
                throw Skip(.linearBiasNotPerFeature, "Gemm bias of shape \(c.shape) is not one value per output feature (\(n))")
            }
            let values = c.doubleValues()
            bias = (0..<n).map { beta * values[values.count == 1 ? 0 : $0] }
        }
        return LinearLayer(form: .gemm(transB: transB), main: position, biasAdd: nil, input: node.inputs[0], output: node.outputs[0],
                           inFeatures: k, outFeatures: n, weight: weight, bias: bias, elementType: b.elementType, rank: 2)
    }

    private static func matMul(_ position: Int, biasAdd: (index: Int, side: Int)?, index: GraphIndex) throws(Skip) -> LinearLayer {
        let node = index.node(position)
        guard node.inputs.count == 2 else { throw Skip(.linearWeightNotConstant, "MatMul has \(node.inputs.count) inputs") }
        let w = try constantMatrix(node.inputs[1], index: index)
        let (k, n) = (w.shape[0], w.shape[1])
        let rank = index.shape(of: node.inputs[0])?.count ?? index.shape(of: node.outputs[0])?.count
        guard rank.map({ $0 >= 2 }) ?? true else {
            throw Skip(.linearRankUnknown, "MatMul input of rank \(rank ?? 0): not a batch of feature rows")
        }
        var bias: [Double]?
        var output = node.outputs[0]
        if let (addIndex, side) = biasAdd {
            let add = index.node(addIndex)
            guard let c = index.constant(add.inputs[side]) else { throw Skip(.operandNotConstant, "the bias is not a constant") }
            bias = try perFeature(c, features: n, operandRank: rank, role: "bias")
            output = add.outputs[0]
        }
        return LinearLayer(form: .matMul, main: position, biasAdd: biasAdd?.index, input: node.inputs[0], output: output,
                           inFeatures: k, outFeatures: n, weight: w.doubleValues(), bias: bias, elementType: w.elementType, rank: rank)
    }

    /// A constant rank-2 float tensor, or a Transpose (perm [1, 0]) of one — the TorchScript
    /// exporter's `x @ W.T` without constant folding.
    private static func constantMatrix(_ value: String, index: GraphIndex) throws(Skip) -> Tensor {
        var tensor = index.constant(value)
        if tensor == nil, let (_, transpose) = index.producerNode(of: value), transpose.isONNX("Transpose"),
           (transpose.attribute("perm")?.intsValue ?? [1, 0]) == [1, 0], let source = index.constant(transpose.inputs.first ?? ""),
           source.rank == 2 {
            let values = source.doubleValues(), (rows, columns) = (source.shape[0], source.shape[1])
            var transposed = [Double](repeating: 0, count: values.count)
            for row in 0..<rows {
                for column in 0..<columns { transposed[column * rows + row] = values[row * columns + column] }
            }
            // Values read from float32 convert back exactly.
            tensor = source.elementType == .float64 ? try? Tensor(float64: transposed, shape: [columns, rows])
                : try? Tensor(float32: transposed.map { Float($0) }, shape: [columns, rows])
        }
        guard let tensor else { throw Skip(.linearWeightNotConstant, "the weight '\(value)' is not a constant") }
        guard tensor.elementType == .float32 || tensor.elementType == .float64 else {
            throw Skip(.convWeightType, "the weight is \(tensor.elementType), only float and double are folded")
        }
        guard tensor.rank == 2, tensor.shape[0] > 0, tensor.shape[1] > 0 else {
            throw Skip(.convWeightShape, "the weight has shape \(tensor.shape), not a 2-D matrix")
        }
        return tensor
    }

    /// A constant as one value per feature of the last axis of an operand of rank `operandRank`
    /// (a single value broadcasts to all): shape [F] or [1, …, 1, F] no longer than the operand.
    static func perFeature(_ constant: Tensor, features: Int, operandRank: Int?, role: String) throws(Skip) -> [Double] {
        guard constant.elementType.isFloatingPoint else {
            throw Skip(.constantNotFloatingPoint, "the \(role) is \(constant.elementType), not floating point")
        }
        let values = constant.doubleValues()
        // A constant of higher rank than the operand would broadcast the result to a new shape.
        let fitsRank = constant.rank <= 1 || (operandRank.map { constant.rank <= $0 } ?? false)
        if values.count == 1, fitsRank { return Array(repeating: values[0], count: features) }
        guard constant.shape.last == features, constant.shape.dropLast().allSatisfy({ $0 == 1 }), fitsRank else {
            throw Skip(.linearBiasNotPerFeature, "the \(role) of shape \(constant.shape) is not one value per feature (\(features))")
        }
        return values
    }

    /// x ↦ (s ⊙ x + t) before the layer: W'[k, n] = s[k]·W[k, n], b' = b + Σ_k t[k]·W[k, n].
    mutating func foldBefore(scale: [Double], shift: [Double]) {
        var newBias = bias ?? [Double](repeating: 0, count: outFeatures)
        for k in 0..<inFeatures {
            for n in 0..<outFeatures {
                newBias[n] += shift[k] * weight[k * outFeatures + n]
                weight[k * outFeatures + n] *= scale[k]
            }
        }
        if bias != nil || shift.contains(where: { $0 != 0 }) { bias = newBias }
    }

    /// y ↦ s ⊙ y + t after the layer: W'[k, n] = W[k, n]·s[n], b' = s ⊙ b + t.
    mutating func foldAfter(scale: [Double], shift: [Double]) {
        for k in 0..<inFeatures {
            for n in 0..<outFeatures { weight[k * outFeatures + n] *= scale[n] }
        }
        let old = bias ?? [Double](repeating: 0, count: outFeatures)
        bias = (0..<outFeatures).map { old[$0] * scale[$0] + shift[$0] }
    }

    /// The layer's replacement reading `input` and writing `output`: a Gemm (alpha = beta = 1,
    /// the original transB), or a MatMul followed by an Add when there is a bias.
    func nodes(input: String, output: String, index: GraphIndex, editor: inout GraphEditor,
               fusedFrom: [String], pass: String) throws(PassError) -> [Node] {
        let main = index.node(self.main)
        func tensor(_ values: [Double], _ shape: [Int]) throws(PassError) -> Tensor {
            do {
                return elementType == .float64 ? try Tensor(float64: values, shape: shape) : try Tensor(float32: values.map { Float($0) }, shape: shape)
            } catch {
                throw .invalidTensor(pass: pass, node: main.name, problem: "\(error)")
            }
        }
        switch form {
        case .gemm(let transB):
            var stored = weight
            if transB {
                for k in 0..<inFeatures {
                    for n in 0..<outFeatures { stored[n * inFeatures + k] = weight[k * outFeatures + n] }
                }
            }
            let weightName = editor.addInitializer(try tensor(stored, transB ? [outFeatures, inFeatures] : [inFeatures, outFeatures]),
                                                   preferredName: "\(main.name).weight")
            var inputs = [input, weightName]
            if let bias { inputs.append(editor.addInitializer(try tensor(bias, [outFeatures]), preferredName: "\(main.name).bias")) }
            let attributes = [Attribute(name: "transB", value: .int(transB ? 1 : 0))]
            return [Node(name: main.name, opType: "Gemm", inputs: inputs, outputs: [output], attributes: attributes, fusedFrom: fusedFrom)]
        case .matMul:
            let weightName = editor.addInitializer(try tensor(weight, [inFeatures, outFeatures]), preferredName: "\(main.name).weight")
            guard let bias else {
                return [Node(name: main.name, opType: "MatMul", inputs: [input, weightName], outputs: [output], fusedFrom: fusedFrom)]
            }
            let product = main.outputs[0] != output ? main.outputs[0] : editor.uniqueName("\(main.name).product")
            let biasName = editor.addInitializer(try tensor(bias, [outFeatures]), preferredName: "\(main.name).bias")
            let addName = biasAdd.map { index.node($0).name } ?? editor.uniqueName("\(main.name).add_bias")
            return [Node(name: main.name, opType: "MatMul", inputs: [input, weightName], outputs: [product], fusedFrom: fusedFrom),
                    Node(name: addName, opType: "Add", inputs: [product, biasName], outputs: [output], fusedFrom: fusedFrom)]
        }
    }
}
