import GhostIR

/// `fold-bias-padding-into-conv`
///
/// **Given** `y = W(Pad(Conv₁ₓ₁(x, K, b), p))` where the Pad adds p_begin/p_end elements to the
/// spatial axes (constant mode, fill c) and W is a chain of Transposes, ScatterNDs and
/// Identities with constant operands that writes constants into the padded tensor (DBB's
/// "BN and pad": the border strips set to the BN's response to a zero input, exported as
/// slice assignments), so that, per channel o and padded position u,
///
///     y[n, o, u] = z[n, o, u − p_begin]   when u is inside (z the 1×1's output)
///     y[n, o, u] = v[o]                   when u is on the border (written, or left at c)
///
/// **Result** `y = Conv₁ₓ₁(x, K, b)` with pads q + p (q its own pads), since a 1×1 Conv of a
/// zero-padded input gives exactly b[o] at the padded positions. The following k×k Conv without
/// padding then merges with it (`merge-sequential-convs`: the 1×1's border carries its bias).
///
/// **Conditions**: v[o] = b[o], compared in Float64 after the BatchNormalization fold: |v − b| ≤
/// 16·u·max|b| (u = 2⁻²⁴ for float32 weights, 2⁻⁵³ for float64). The exporter or PyTorch
/// computes v = β − μ·γ/√(σ²+ε) in float32 in its own order while the fold rounds b once from
/// Float64; the two differ by a few units of the vector's scale (bit-equal for ~60% of channels,
/// at most 6.2·2⁻²⁴·max|b| over 20 000 random blocks of 4–64 channels), while any other value (a
/// zero border, another layer's bias) is off by orders of magnitude more. Further: the 1×1 has stride 1 (dilation has no effect on a
/// 1×1) and its output feeds only the Pad; the Pad pads no batch or channel axis and no count is
/// negative; every intermediate value of the chain feeds only the next step; the chain leaves
/// every interior element where it was (writes only the border) and every border element equal
/// to the bias; the shape is static. The weights are not touched: nothing is rounded.
public struct FoldBiasPaddingIntoConv: RewriteRule {
    public let name = "fold-bias-padding-into-conv"
    public var requires: [String] { ["fold-batchnorm-into-conv"] }
    let anchorOperators: Set<String> = ["Pad"]

    public init() {}

    struct Site: RuleSite {
        /// The Pad.
        let anchor: Int
        /// The 1×1 Conv, or the BatchNormalization between it and the Pad (not yet folded).
        let stage: Int
        /// The Transposes, ScatterNDs and Identities after the Pad, in order.
        let chain: [Int]
        /// The chain's last value (the Pad's output when the chain is empty).
        let result: String
        /// The Pad's input shape, when static.
        let inputShape: [Int]?
        var claimed: [Int] { [stage, anchor] + chain }
    }

    private static let chainOperators: Set<String> = ["Transpose", "ScatterND", "Identity"]

    /// Every Pad whose input is a 1×1 Conv's output (directly, or through a BatchNormalization
    /// the fold has not taken yet), with the chain of border writes after it.
    func match(_ index: GraphIndex) -> [Site] {
        var shapes: StaticShapes?
        var sites: [Site] = []
        for (position, pad) in index.graph.nodes.enumerated() where pad.isONNX("Pad") {
            guard let data = pad.inputs.first, pad.outputs.count == 1, let (stage, producer) = index.producerNode(of: data),
                  producer.outputs.count == 1 else { continue }
            var conv = producer
            if producer.isONNX("BatchNormalization"), let (_, before) = index.producerNode(of: producer.inputs.first ?? "") {
                conv = before
            }
            guard conv.isONNX("Conv"), conv.inputs.count > 1, let weight = index.constant(conv.inputs[1]),
                  weight.rank >= 3, weight.shape.dropFirst(2).allSatisfy({ $0 == 1 }) else { continue }
            var chain: [Int] = [], value = pad.outputs[0]
            while !index.isGraphOutput(value), let readers = index.consumers[value], readers.count == 1,
                  isChainStep(index.node(readers[0]), reading: value) {
                chain.append(readers[0])
                value = index.node(readers[0]).outputs[0]
            }
            if shapes == nil { shapes = StaticShapes(index) }
            sites.append(Site(anchor: position, stage: stage, chain: chain, result: value,
                              inputShape: shapes?.fixedShape(of: data) ?? index.shape(of: data)))
        }
        return sites
    }

    private func isChainStep(_ node: Node, reading value: String) -> Bool {
        node.domain.isEmpty && Self.chainOperators.contains(node.opType) && node.inputs.first == value
            && !node.inputs.dropFirst().contains(value) && node.outputs.count == 1
    }

    struct Folded {
        let attributes: [Attribute]
    }

    func check(_ site: Site, _ index: GraphIndex) throws(Skip) -> Folded {
        let pad = index.node(site.anchor), stage = index.node(site.stage)
        if stage.isONNX("BatchNormalization") {
            throw Skip.waits(for: "fold-batchnorm-into-conv", .waitsForBatchNormFold,
                         "the BatchNormalization before the Pad folds into the 1×1 Conv first, which makes its bias known",
                         nodes: [index.name(site.stage)])
        }
        _ = try index.soleConsumer(of: stage.outputs[0], producedBy: index.name(site.stage)).get()
        // The walk stops at a value with a second reader; a border write after it means the
        // other reader sees a half-written (or unwritten) border.
        if let readers = index.consumers[site.result], readers.count > 1 || index.isGraphOutput(site.result),
           readers.contains(where: { isChainStep(index.node($0), reading: site.result) }) {
            throw Skip(.outputShared, "the padded value '\(site.result)' is read elsewhere while its border is being written",
                       nodes: readers.map(index.name))
        }
        let weights = try ConvWeights.read(stage, index: index).get()
        guard let weight = index.constant(stage.inputs[1]) else {
            throw Skip(.convWeightNotConstant, "Conv weight '\(stage.inputs[1])' is not a constant")
        }
        var geometry = try ConvGeometry.read(stage, weight: weight, inputShape: nil).get()
        guard geometry.strides.allSatisfy({ $0 == 1 }) else {
            throw Skip(.padConvStrided, "the 1×1 Conv has strides \(geometry.strides): its zero-padded input would not give the Pad's layout")
        }
        let rank = geometry.spatialRank + 2
        guard let shape = site.inputShape, shape.count == rank, shape.allSatisfy({ $0 >= 0 }) else {
            throw Skip(.shapeNotStatic, "the Pad's input has no static shape, which the border check needs")
        }
        let parameters = try PadParameters.read(pad, rank: rank, constant: index.constant).get()
        guard parameters.mode == "constant" else {
            throw Skip(.padModeNotConstant, "the Pad's mode is '\(parameters.mode)': its border copies the data, not a constant")
        }
        guard parameters.begin.allSatisfy({ $0 >= 0 }), parameters.end.allSatisfy({ $0 >= 0 }),
              parameters.begin[0] == 0, parameters.end[0] == 0, parameters.begin[1] == 0, parameters.end[1] == 0 else {
            throw Skip(.padOperandMalformed, "the Pad's counts \(parameters.begin) / \(parameters.end) crop or pad the batch or channel axis")
        }
        try checkBorder(site, parameters, shape: shape, bias: weights.bias, elementType: weights.elementType, index: index)
        for axis in 0..<geometry.spatialRank {
            let (begin, beginOverflow) = geometry.pads[axis].addingReportingOverflow(parameters.begin[axis + 2])
            let (end, endOverflow) = geometry.pads[axis + geometry.spatialRank].addingReportingOverflow(parameters.end[axis + 2])
            guard !beginOverflow, !endOverflow else { throw Skip(.convAttributeMalformed, "the 1×1's pads \(geometry.pads) overflow with the Pad's") }
            geometry.pads[axis] = begin
            geometry.pads[axis + geometry.spatialRank] = end
        }
        return Folded(attributes: geometry.attributes)
    }

    /// Runs the chain on the padded layout and compares what it leaves with the bias.
    private func checkBorder(_ site: Site, _ parameters: PadParameters, shape: [Int], bias: [Double],
                             elementType: ElementType, index: GraphIndex) throws(Skip) {
        guard let padded = parameters.padded(shape), shape[1] == bias.count else {
            throw Skip(.padOperandMalformed, "the Pad's input shape \(shape) does not fit \(bias.count) channels")
        }
        var count = 1
        for size in padded {
            let (next, overflow) = count.multipliedReportingOverflow(by: size)
            guard !overflow, next <= PaddedBorderWrites.elementLimit else {
                throw Skip(.padTooLarge, "the padded tensor \(padded) has more than \(PaddedBorderWrites.elementLimit) elements to check")
            }
            count = next
        }
        var writes = PaddedBorderWrites(shape: padded, count: count)
        for step in site.chain {
            let node = index.node(step)
            switch node.opType {
            case "Transpose":
                let perm = node.attribute("perm")?.intsValue.map { $0.map { Int(clamping: $0) } } ?? Array((0..<padded.count).reversed())
                try writes.transpose(perm)
            case "ScatterND":
                guard (node.attribute("reduction")?.stringValue ?? "none") == "none" else {
                    throw Skip(.padBorderWriteMalformed, "a ScatterND with reduction '\(node.attribute("reduction")?.stringValue ?? "")' adds to the border", nodes: [index.name(step)])
                }
                guard node.inputs.count == 3, let indices = index.constant(node.inputs[1]), let updates = index.constant(node.inputs[2]) else {
                    throw Skip(.padBorderWriteMalformed, "a ScatterND's indices or updates are not constants", nodes: [index.name(step)])
                }
                try writes.scatter(indices: indices, updates: updates)
            default:
                break
            }
        }
        guard writes.shape == padded else {
            throw Skip(.padInteriorChanged, "the writes leave the tensor transposed (\(writes.shape), padded \(padded))")
        }
        let unit = elementType == .float64 ? 0x1p-53 : 0x1p-24
        let tolerance = 16 * unit * (bias.map(\.magnitude).max() ?? 0)
        let spatial = Array(padded.dropFirst(2))
        let plane = spatial.reduce(1, *)
        var interior = [Bool](repeating: false, count: plane)
        var coordinate = [Int](repeating: 0, count: spatial.count)
        for position in 0..<plane {
            interior[position] = coordinate.indices.allSatisfy {
                coordinate[$0] >= parameters.begin[$0 + 2] && coordinate[$0] < parameters.begin[$0 + 2] + shape[$0 + 2]
            }
            var axis = spatial.count - 1
            while axis >= 0 {
                coordinate[axis] += 1
                if coordinate[axis] < spatial[axis] { break }
                coordinate[axis] = 0
                axis -= 1
            }
        }
        for offset in 0..<count {
            let channel = (offset / plane) % padded[1]
            let (from, written) = writes.element(at: offset)
            if interior[offset % plane] {
                guard from == offset else {
                    throw Skip(.padInteriorChanged, "the writes change the padded tensor's interior (element \(offset)), not only its border")
                }
                continue
            }
            let value: Double
            if let written {
                value = written
            } else if let from, !interior[from % plane], (from / plane) % padded[1] == channel {
                value = parameters.constantValue
                guard (value - bias[channel]).magnitude <= tolerance else {
                    throw Skip(.padBorderNotCovered, "border element \(offset) keeps the Pad's fill \(value), not the 1×1's bias \(bias[channel]) of channel \(channel)")
                }
                continue
            } else {
                throw Skip(.padInteriorChanged, "the writes move elements of the padded tensor (element \(offset))")
            }
            guard (value - bias[channel]).magnitude <= tolerance else {
                throw Skip(.padBorderNotBias, "border element \(offset) is set to \(value), the 1×1's bias of channel \(channel) is \(bias[channel])")
            }
        }
    }

    func rewrite(_ site: Site, _ folded: Folded, _ index: GraphIndex, _ editor: inout GraphEditor) throws(PassError) -> [Rewrite] {
        let conv = index.node(site.stage)
        let steps = [site.stage, site.anchor] + site.chain
        let fused = Node(name: conv.name, opType: "Conv", inputs: conv.inputs, outputs: [site.result],
                         attributes: folded.attributes, fusedFrom: steps.flatMap { provenance(index.node($0)) })
        let rewrite = Rewrite(replaced: steps, result: fused.name, in: index)
        editor.replace(steps, with: fused)
        return [rewrite]
    }
}
