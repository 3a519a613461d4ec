import GhostIR

/// Why a site a rule matched was not rewritten: a stable code, a status, the nodes at fault and a
/// sentence for `--explain`.
///
/// The code is part of the interface (`--report` JSON, docs/passes.md lists every one); the
/// sentence may change. The status says what kind of "no" it is, as onnxscript's `MatchResult`
/// and MLIR's `notifyMatchFailure` separate a pattern that did not fit from a condition that
/// failed.
struct Skip: Error, Equatable, Sendable {
    let code: SkipCode
    let status: SkipStatus
    let reason: String
    /// Nodes (display names) the reason is about, beyond the site's anchor.
    let nodes: [String]

    init(_ code: SkipCode, _ reason: String, status: SkipStatus = .conditionFailed, nodes: [String] = []) {
        self.code = code
        self.status = status
        self.reason = reason
        self.nodes = nodes
    }

    /// A site that another rule must rewrite first (and will, unless it is disabled).
    static func waits(for rule: String, _ code: SkipCode, _ reason: String, nodes: [String] = []) -> Skip {
        Skip(code, reason, status: .waitsFor(rule), nodes: nodes)
    }
}

/// What kind of refusal a skip is.
enum SkipStatus: Equatable, Sendable {
    /// The shape looked like the rule's pattern, but a part of it is not (a branch that is not on
    /// the sum's input).
    case notMatched
    /// The pattern fits and a precondition failed (a shared output, a non-constant weight).
    case conditionFailed
    /// The site needs another rule's rewrite first (named).
    case waitsFor(String)
    /// Another site of the same rule claimed one of its nodes in this sweep; the next round
    /// takes it.
    case conflict

    var name: String {
        switch self {
        case .notMatched: "not-matched"
        case .conditionFailed: "condition-failed"
        case .waitsFor: "waits-for"
        case .conflict: "conflict"
        }
    }

    var rule: String? {
        if case .waitsFor(let rule) = self { rule } else { nil }
    }
}

/// Every skip code any rule can give. The raw values are stable; docs/passes.md lists them (a
/// test keeps the two in step).
public enum SkipCode: String, CaseIterable, Sendable, Codable {
    // BatchNormalization parameters
    case batchNormTrainingMode = "bn-training-mode"
    case batchNormPerElement = "bn-spatial-zero"
    case batchNormInputs = "bn-input-count"
    case batchNormStatisticsUsed = "bn-statistics-used"
    case batchNormParameterNotConstant = "bn-parameter-not-constant"
    case batchNormParameterLengths = "bn-parameter-lengths"
    case batchNormVarianceNotPositive = "bn-variance-not-positive"
    // sharing
    case outputIsGraphOutput = "output-is-graph-output"
    case outputShared = "output-shared"
    // Conv weights and geometry
    case convWeightNotConstant = "conv-weight-not-constant"
    case convWeightType = "conv-weight-type"
    case convWeightShape = "conv-weight-shape"
    case convBiasNotConstant = "conv-bias-not-constant"
    case convBiasLength = "conv-bias-length"
    case convAttributeMalformed = "conv-attribute-malformed"
    case convGroupInvalid = "conv-group-invalid"
    case kernelShapeMismatch = "kernel-shape-mismatch"
    case autoPadNeedsShape = "auto-pad-needs-shape"
    case autoPadUnknown = "auto-pad-unknown"
    // per-channel constants
    case operandNotConstant = "operand-not-constant"
    case constantNotFloatingPoint = "constant-not-floating-point"
    case constantNotPerChannel = "constant-not-per-channel"
    case divisorHasZero = "divisor-has-zero"
    case convIsDivisor = "conv-is-divisor"
    case channelMismatch = "channel-mismatch"
    // branch sums
    case branchNotOnInput = "branch-not-on-input"
    case noConvBranch = "no-conv-branch"
    case identityChannels = "identity-channels-mismatch"
    case kernelRankDiffers = "kernel-rank-differs"
    case stridesDiffer = "strides-differ"
    case dilationNotOne = "dilation-not-one"
    case groupsDiffer = "groups-differ"
    case weightShapeDiffers = "weight-shape-differs"
    case kernelNotCentrable = "kernel-not-centrable"
    case padsNotCentred = "pads-not-centred"
    case waitsForIdentityConv = "waits-for-identity-conv"
    case waitsForPadding = "waits-for-padding"
    // linear layers (lead)
    case linearInputRank = "linear-input-rank"
    // seq-rules: sequential merges, pooling as convolution, pre-activation BN, linear layers
    case poolAttributeMalformed = "pool-attribute-malformed"
    case poolCeilMode = "pool-ceil-mode"
    case poolExcludesPadding = "pool-excludes-padding"
    case sequentialChannelsMismatch = "sequential-channels-mismatch"
    case sequentialKernelsBothSpatial = "sequential-kernels-both-spatial"
    case sequentialBiasUnderPadding = "sequential-bias-under-padding"
    case sequentialPaddingNotComposable = "sequential-padding-not-composable"
    case sequentialGroupsUnsupported = "sequential-groups-unsupported"
    case sequentialMergeCostlier = "sequential-merge-costlier"
    case batchNormBeforePaddedConv = "bn-before-padded-conv"
    case linearWeightNotConstant = "linear-weight-not-constant"
    case linearAttributeUnsupported = "linear-attribute-unsupported"
    case linearBiasNotPerFeature = "linear-bias-not-per-feature"
    case linearRankUnknown = "linear-rank-unknown"
    case linearFeatureMismatch = "linear-feature-mismatch"
    case reshapeMovesFeatures = "reshape-moves-features"
    case linearIsDivisor = "linear-is-divisor"
    // dbb-pad: a Pad whose border is set to the 1×1 Conv's bias (DBB's BN-and-pad)
    case padOperandMalformed = "pad-operand-malformed"
    case padModeNotConstant = "pad-mode-not-constant"
    case padConvStrided = "pad-conv-strided"
    case padBorderWriteMalformed = "pad-border-write-malformed"
    case padInteriorChanged = "pad-interior-changed"
    case padBorderNotCovered = "pad-border-not-covered"
    case padBorderNotBias = "pad-border-not-bias"
    case padTooLarge = "pad-too-large"
    case waitsForBatchNormFold = "waits-for-batchnorm-fold"
    // end dbb-pad
    // the driver and the sweeps
    case siteClaimed = "site-claimed"
    case graphOutputNotRenamable = "graph-output-not-renamable"
    // shape-fold
    case foldMalformed = "fold-operand-malformed"
    case foldTypeUnsupported = "fold-type-unsupported"
    case foldTooLarge = "fold-result-too-large"
    case foldIntegerOverflow = "fold-integer-overflow"
    case foldDivisionByZero = "fold-division-by-zero"
    case constantValueUnsupported = "constant-value-unsupported"
    case shapeNotStatic = "shape-not-static"
    case reshapeTargetUnresolved = "reshape-target-unresolved"
    case noopShapeUnknown = "noop-shape-unknown"
    case sliceNotAnOperand = "slice-not-an-operand"
}
