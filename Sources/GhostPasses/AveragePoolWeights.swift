import GhostIR

/// An `AveragePool` as the depthwise convolution it is, so a merge can take it like any Conv.
///
/// With C channels and a kernel of k₁×…×k_r positions,
///
///     AveragePool(x) = Conv(x, K, group = C),   K[c, 0, …] = 1 / (k₁·…·k_r),   no bias,
///
/// with the pool's strides, pads and dilations, exactly when every window is divided by the full
/// kernel size: `count_include_pad=1`, or no padding at all (with `count_include_pad=0` a border
/// window is divided by the number of real inputs it covers). `ceil_mode=1` adds partial windows
/// at the end that a Conv does not compute, so it is refused too.
extension ConvWeights {
    /// K[c, 0, …] = 1 / Π kernel for `channels` channels, bias 0.
    static func averagePool(channels: Int, kernel: [Int], elementType: ElementType) -> Result<ConvWeights, Skip> {
        guard channels > 0, !kernel.isEmpty, kernel.allSatisfy({ $0 > 0 }), let positions = checkedProduct(kernel),
              let elements = checkedProduct([channels, positions]), elements <= 1 << 28 else {
            return .failure(Skip(.poolAttributeMalformed, "AveragePool kernel \(kernel) over \(channels) channels is not a usable kernel"))
        }
        let shape = [channels, 1] + kernel
        guard let tensor = try? Tensor(float64: [Double](repeating: 1 / Double(positions), count: elements), shape: shape) else {
            return .failure(Skip(.poolAttributeMalformed, "AveragePool kernel \(kernel) over \(channels) channels is not a usable kernel"))
        }
        return .success(ConvWeights(terms: [Term(source: .tensor(tensor), spatial: kernel, factor: nil)],
                                    bias: [Double](repeating: 0, count: channels), shape: shape, elementType: elementType))
    }
}

extension ConvGeometry {
    /// The geometry of the depthwise Conv an `AveragePool` node over `channels` channels equals,
    /// or the reason it equals none. `inputShape` is needed only for SAME padding with stride > 1.
    static func averagePool(_ node: Node, channels: Int, inputShape: [Int]?) -> Result<ConvGeometry, Skip> {
        guard let kernel = node.attribute("kernel_shape")?.intsValue?.map({ Int(clamping: $0) }), !kernel.isEmpty,
              kernel.allSatisfy({ $0 > 0 }) else {
            return .failure(Skip(.poolAttributeMalformed, "AveragePool has no usable kernel_shape"))
        }
        if node.attribute("ceil_mode")?.intValue ?? 0 != 0 {
            return .failure(Skip(.poolCeilMode, "AveragePool has ceil_mode=1: its partial last windows are not a convolution's"))
        }
        // Borrow the Conv reading of strides, pads, dilations and auto_pad through a stand-in
        // node: the attributes mean the same for both operators.
        let names: Set<String> = ["strides", "pads", "dilations", "auto_pad"]
        let standIn = Node(name: node.name, opType: "Conv", inputs: [], outputs: [],
                           attributes: node.attributes.filter { names.contains($0.name) })
        guard let positions = checkedProduct(kernel), positions <= 1 << 16,
              let weight = try? Tensor(float64: [Double](repeating: 0, count: positions), shape: [1, 1] + kernel) else {
            return .failure(Skip(.poolAttributeMalformed, "AveragePool kernel_shape \(kernel) is too large"))
        }
        var geometry: ConvGeometry
        switch ConvGeometry.read(standIn, weight: weight, inputShape: inputShape) {
        case .success(let read): geometry = read
        case .failure(let skip): return .failure(skip)
        }
        if node.attribute("count_include_pad")?.intValue ?? 0 == 0, geometry.pads.contains(where: { $0 != 0 }) {
            return .failure(Skip(.poolExcludesPadding, "AveragePool has count_include_pad=0 with padding \(geometry.pads): a border window's divisor differs"))
        }
        geometry.groups = channels
        geometry.outputChannels = channels
        geometry.inputChannelsPerGroup = 1
        return .success(geometry)
    }
}

/// The product of `sizes`, or nil when it overflows.
func checkedProduct(_ sizes: [Int]) -> Int? {
    var product = 1
    for size in sizes {
        let (next, overflow) = product.multipliedReportingOverflow(by: size)
        if overflow { return nil }
        product = next
    }
    return product
}
