import GhostIR

/// Whether the branches of a `BranchSum` can become one Conv, and the geometry that Conv has.
///
/// The reference is the branch with the largest kernel (K, pads P). A branch with kernel k and
/// pads p computes the same as its kernel zero-padded to K, centred, under pads P exactly when,
/// on every axis and side, P − p = (K − k)/2 (so K − k must be even). BatchNormalization and
/// identity branches count as 1×1 kernels with no padding and stride 1.
struct BranchAlignment {
    let reference: ConvGeometry
    /// Geometry of each Conv leaf, by node index.
    let convs: [Int: ConvGeometry]
    /// Channels of the sum (the Conv output channels).
    let channels: Int
    /// The Conv leaves whose kernel is smaller than the reference's, in node order: the ones
    /// centred in it (by `pad-kernel-to-3x3`, or by the merge that absorbs it).
    var smallerKernels: [Int] {
        convs.compactMap { $0.value.kernel != reference.kernel ? $0.key : nil }.sorted()
    }
    /// The parameters of each BatchNormalization leaf, by node index (read once, for the
    /// channel check and for `batchnorm-to-depthwise-conv`'s rewrite).
    var batchNorms: [Int: BatchNormParameters] = [:]

    static func check(_ sum: BranchSum, index: GraphIndex) throws(Skip) -> BranchAlignment {
        do {
            var convs: [Int: ConvGeometry] = [:]
            for leaf in sum.leaves {
                switch leaf.branch {
                case .foreign(let skip):
                    throw skip
                case .conv(let convIndex):
                    let node = index.graph.nodes[convIndex]
                    guard let weight = index.constantInput(1, ofNode: convIndex) else {
                        throw Skip(.convWeightNotConstant, "\(index.name(convIndex)) weight is not a constant")
                    }
                    convs[convIndex] = try ConvGeometry.read(node, weight: weight, inputShape: index.shape(of: sum.input)).get()
                case .batchNorm, .identity, .constant:
                    break
                }
            }
            guard let reference = convs.values.max(by: { $0.kernel.reduce(1, *) < $1.kernel.reduce(1, *) }) else {
                throw Skip(.noConvBranch, "no branch is a Conv, so there is nothing to merge into")
            }
            for (convIndex, geometry) in convs.sorted(by: { $0.key < $1.key }) {
                try compatible(geometry, reference, name: index.name(convIndex))
            }
            let channels = reference.outputChannels
            if sum.leaves.contains(where: \.branch.isIdentityLike) {
                guard reference.inputChannelsPerGroup * reference.groups == channels else {
                    throw Skip(.identityChannels, "the Conv branches map \(reference.inputChannelsPerGroup * reference.groups) channels to \(channels), so an identity branch cannot join them")
                }
                let identity = ConvGeometry(
                    kernel: Array(repeating: 1, count: reference.spatialRank), strides: Array(repeating: 1, count: reference.spatialRank),
                    dilations: Array(repeating: 1, count: reference.spatialRank), pads: Array(repeating: 0, count: 2 * reference.spatialRank),
                    groups: reference.groups, outputChannels: channels, inputChannelsPerGroup: reference.inputChannelsPerGroup)
                try compatible(identity, reference, name: "the identity branch")
            }
            var batchNorms: [Int: BatchNormParameters] = [:]
            for leaf in sum.leaves {
                if case .batchNorm(let bnIndex) = leaf.branch {
                    let parameters = try BatchNormParameters.read(index.graph.nodes[bnIndex], index: index, position: bnIndex).get()
                    guard parameters.channels == channels else {
                        throw Skip(.channelMismatch, "\(index.name(bnIndex)) has \(parameters.channels) channels, the Conv branches \(channels)")
                    }
                    batchNorms[bnIndex] = parameters
                }
            }
            let alignment = BranchAlignment(reference: reference, convs: convs, channels: channels, batchNorms: batchNorms)
            for leaf in sum.leaves {
                if case .constant = leaf.branch {
                    _ = try alignment.bias(of: leaf, index: index)
                } else {
                    _ = try alignment.coefficient(of: leaf, index: index)
                }
            }
            return alignment
        }
    }

    private static func compatible(_ branch: ConvGeometry, _ reference: ConvGeometry, name: String) throws(Skip) {
        guard branch.spatialRank == reference.spatialRank else { throw Skip(.kernelRankDiffers, "\(name) has a different kernel rank") }
        guard branch.strides == reference.strides else {
            throw Skip(.stridesDiffer, "\(name) has strides \(branch.strides), the largest branch \(reference.strides)")
        }
        guard branch.dilations.allSatisfy({ $0 == 1 }), reference.dilations.allSatisfy({ $0 == 1 }) else {
            throw Skip(.dilationNotOne, "\(name) or its sibling has dilation ≠ 1")
        }
        guard branch.groups == reference.groups else {
            throw Skip(.groupsDiffer, "\(name) has group=\(branch.groups), its sibling group=\(reference.groups)")
        }
        guard branch.outputChannels == reference.outputChannels, branch.inputChannelsPerGroup == reference.inputChannelsPerGroup else {
            throw Skip(.weightShapeDiffers, "\(name) has a weight of a different channel shape than its sibling")
        }
        for axis in 0..<reference.spatialRank {
            let difference = reference.kernel[axis] - branch.kernel[axis]
            guard difference >= 0, difference % 2 == 0 else {
                throw Skip(.kernelNotCentrable, "\(name) kernel \(branch.kernel) cannot be centred in \(reference.kernel)")
            }
            let needed = difference / 2
            let rank = reference.spatialRank
            guard reference.pads[axis] - branch.pads[axis] == needed,
                  reference.pads[axis + rank] - branch.pads[axis + rank] == needed else {
                throw Skip(.padsNotCentred, "\(name) has pads \(branch.pads) but a \(branch.kernel) kernel centred in \(reference.kernel) under pads \(reference.pads) needs \(branch.kernel.indices.map { reference.padBegin[$0] - (reference.kernel[$0] - branch.kernel[$0]) / 2 }) at the start")
            }
        }
    }
}
