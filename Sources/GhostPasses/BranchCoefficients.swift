import GhostIR

/// The per-channel coefficient of a branch-sum leaf, and the bias a constant leaf adds.
///
/// A leaf under Muls by constants c₁ … cₙ and an odd or even number of Sub right operands has the
/// coefficient ±c₁ ⊙ … ⊙ cₙ, one value per output channel. Each constant must broadcast along
/// the channel axis only — a single value, or shape […, C, 1, …, 1] right-aligned against the
/// sum's [N, C, spatial…] — or the sum is not a per-channel combination of its branches.
extension BranchAlignment {
    /// The leaf's coefficient per channel; nil when it is exactly 1.
    func coefficient(of leaf: BranchSum.Leaf, index: GraphIndex) throws(Skip) -> [Double]? {
        guard !leaf.isPlain else { return nil }
        var factor = [Double](repeating: leaf.sign, count: channels)
        for scale in leaf.scales {
            let values = try perChannel(scale, index: index)
            for channel in 0..<channels { factor[channel] *= values[channel] }
        }
        return factor
    }

    /// The bias a constant leaf contributes: its coefficient times its values.
    func bias(of leaf: BranchSum.Leaf, index: GraphIndex) throws(Skip) -> [Double] {
        var values = try perChannel(leaf.value, index: index)
        if let factor = try coefficient(of: leaf, index: index) {
            for channel in 0..<channels { values[channel] *= factor[channel] }
        }
        return values
    }

    /// The constant `value` as one number per channel.
    private func perChannel(_ value: String, index: GraphIndex) throws(Skip) -> [Double] {
        guard let constant = index.constant(value) else {
            throw Skip(.operandNotConstant, "'\(value)' is not a constant")
        }
        guard constant.elementType.isFloatingPoint else {
            throw Skip(.constantNotFloatingPoint, "the constant '\(value)' is \(constant.elementType), not floating point")
        }
        let values = constant.doubleValues()
        if values.count == 1 { return Array(repeating: values[0], count: channels) }
        let shape = constant.shape, rank = reference.spatialRank + 2
        let channelAxis = shape.count - reference.spatialRank - 1
        guard shape.count <= rank, channelAxis >= 0, shape[channelAxis] == channels,
              shape.enumerated().allSatisfy({ $0.offset == channelAxis || $0.element == 1 }) else {
            throw Skip(.constantNotPerChannel, "the constant '\(value)' has shape \(shape), not one value per channel of \(channels)")
        }
        return values
    }
}
