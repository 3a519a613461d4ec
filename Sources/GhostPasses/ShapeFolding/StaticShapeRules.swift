import GhostIR

/// The output-shape rules of `StaticShapes` that take more than an input's shape: broadcasting,
/// Concat, Reshape, Resize and the convolution/pooling window arithmetic. Each returns nil when a
/// dimension it needs is not known, so the value gets no shape and the rules that need it skip.
extension StaticShapes {
    /// The product of `dims`, or the one dimension itself; nil when a symbol is multiplied (its
    /// product is no symbol we track).
    func product(_ dims: ArraySlice<Dim>) -> Dim? {
        var total = 1
        for dim in dims {
            guard let size = dim.fixedValue else { return dims.count == 1 ? dim : nil }
            let (next, overflow) = total.multipliedReportingOverflow(by: size)
            guard !overflow else { return nil }
            total = next
        }
        return .fixed(total)
    }

    func broadcast(_ inputs: [String]) -> [Dim]? {
        var result: [Dim] = []
        for name in inputs where !name.isEmpty {
            guard let shape = shapes[name], let combined = broadcastShapes(result, shape) else { return nil }
            result = combined
        }
        return result
    }

    /// numpy broadcasting; two different symbols (or a symbol against a size other than 1) are
    /// not known to agree, so the result is unknown.
    func broadcastShapes(_ a: [Dim], _ b: [Dim]) -> [Dim]? {
        let rank = max(a.count, b.count)
        var result: [Dim] = []
        for axis in 0..<rank {
            let x = axis - (rank - a.count) >= 0 ? a[axis - (rank - a.count)] : .fixed(1)
            let y = axis - (rank - b.count) >= 0 ? b[axis - (rank - b.count)] : .fixed(1)
            if x == y || y == .fixed(1) { result.append(x) } else if x == .fixed(1) { result.append(y) } else { return nil }
        }
        return result
    }

    func concatenated(_ node: Node) -> [Dim]? {
        let parts = node.inputs.filter { !$0.isEmpty }.compactMap { shapes[$0] }
        guard let first = parts.first, parts.count == node.inputs.filter({ !$0.isEmpty }).count,
              let axis = ShapeOps.axis(node.attribute("axis")?.intValue ?? 0, rank: first.count) else { return nil }
        var total = 0
        for part in parts {
            guard part.count == first.count, let size = part[axis].fixedValue else { return nil }
            for other in part.indices where other != axis && part[other] != first[other] { return nil }
            total += size
        }
        var result = first
        result[axis] = .fixed(total)
        return result
    }

    /// Reshape's output: 0 copies the input dimension (unless `allowzero`), one −1 takes the rest
    /// — resolvable when the symbols on both sides are the same multiset, so they cancel.
    func reshaped(_ input: [Dim], target: [Dim], allowZero: Bool) -> [Dim]? {
        var result: [Dim] = []
        var inferred: Int?
        for (position, entry) in target.enumerated() {
            switch entry {
            case .fixed(0) where !allowZero:
                guard position < input.count else { return nil }
                result.append(input[position])
            case .fixed(-1):
                guard inferred == nil else { return nil }
                inferred = position
                result.append(.fixed(1))
            case .fixed(let size):
                guard size >= 0 else { return nil }
                result.append(entry)
            case .symbol:
                result.append(entry)
            }
        }
        guard let inferred else { return result }
        func split(_ dims: [Dim]) -> (product: Int, symbols: [String])? {
            var product = 1
            var symbols: [String] = []
            for dim in dims {
                switch dim {
                case .fixed(let size):
                    let (next, overflow) = product.multipliedReportingOverflow(by: size)
                    guard !overflow else { return nil }
                    product = next
                case .symbol(let name):
                    symbols.append(name)
                }
            }
            return (product, symbols.sorted())
        }
        guard let whole = split(input), let known = split(result), known.product > 0 else { return nil }
        if whole.symbols == known.symbols, whole.product % known.product == 0 {
            result[inferred] = .fixed(whole.product / known.product)
            return result
        }
        // The −1 takes the one symbol the target lacks: exactly it when the known sizes agree.
        var remaining = whole.symbols
        for symbol in known.symbols {
            guard let position = remaining.firstIndex(of: symbol) else { return nil }
            remaining.remove(at: position)
        }
        guard remaining.count == 1, whole.product == known.product else { return nil }
        result[inferred] = .symbol(remaining[0])
        return result
    }

    /// Resize/Upsample: ⌊size·scale⌋ per axis from constant scales, or the constant sizes (all
    /// axes; the `axes` attribute and keep_aspect_ratio_policy are not followed).
    func resized(_ node: Node, input: [Dim]?, index: GraphIndex) -> [Dim]? {
        guard let input, node.attribute("axes") == nil else { return nil }
        // Upsample-9 and Resize-10 take (X, scales); Resize-11+ (X, roi, scales, sizes).
        let position = node.opType == "Upsample" || node.inputs.count == 2 ? 1 : 2
        let scalesName = node.inputs.count > position ? node.inputs[position] : ""
        if node.opType == "Resize", node.inputs.count > 3, !node.inputs[3].isEmpty {
            guard let sizes = index.constant(node.inputs[3]), sizes.elementType == .int64, sizes.elementCount == input.count else { return nil }
            return sizes.int64Values().map { Dim.fixed(Int($0)) }
        }
        var scales: [Double]
        if !scalesName.isEmpty, let tensor = index.constant(scalesName), tensor.elementType.isFloatingPoint {
            scales = tensor.doubleValues()
        } else if let attribute = node.attribute("scales")?.floatsValue {
            scales = attribute.map(Double.init)
        } else {
            return nil
        }
        guard scales.count == input.count else { return nil }
        var result: [Dim] = []
        for (dim, scale) in zip(input, scales) {
            if scale == 1 { result.append(dim); continue }
            guard let size = dim.fixedValue, scale.isFinite, scale > 0 else { return nil }
            // ONNX rounds the product of a float32 scale in float32 arithmetic: ⌊size·scale⌋.
            result.append(.fixed(Int((Double(Float(size) * Float(scale))).rounded(.down))))
        }
        return result
    }

    /// Conv and pooling output sizes: ⌊(in + pads − dilation·(k − 1) − 1) / stride⌋ + 1 (⌈⌉ with
    /// ceil_mode), for explicit pads or auto_pad NOTSET/VALID/SAME_*.
    func convolved(_ node: Node, input: [Dim]?, index: GraphIndex) -> [Dim]? {
        guard let input, input.count >= 3 else { return nil }
        let spatial = input.count - 2
        var kernel: [Int]
        var channels: Dim = input[1]
        if node.opType == "Conv" {
            guard let weight = shapes[node.inputs.count > 1 ? node.inputs[1] : ""], weight.count == input.count else { return nil }
            let sizes = weight.compactMap(\.fixedValue)
            guard sizes.count == weight.count else { return nil }
            kernel = Array(sizes.dropFirst(2))
            channels = .fixed(sizes[0])
        } else {
            guard let shape = node.attribute("kernel_shape")?.intsValue else { return nil }
            kernel = shape.map(Int.init)
        }
        guard kernel.count == spatial else { return nil }
        let strides = node.attribute("strides")?.intsValue.map { $0.map(Int.init) } ?? Array(repeating: 1, count: spatial)
        let dilations = node.attribute("dilations")?.intsValue.map { $0.map(Int.init) } ?? Array(repeating: 1, count: spatial)
        let pads = node.attribute("pads")?.intsValue.map { $0.map(Int.init) } ?? Array(repeating: 0, count: 2 * spatial)
        let autoPad = node.attribute("auto_pad")?.stringValue ?? "NOTSET"
        let ceilMode = node.attribute("ceil_mode")?.intValue == 1
        guard strides.count == spatial, dilations.count == spatial, pads.count == 2 * spatial,
              strides.allSatisfy({ $0 > 0 }), dilations.allSatisfy({ $0 > 0 }) else { return nil }
        var result = [input[0], channels]
        for axis in 0..<spatial {
            guard let size = input[axis + 2].fixedValue else { return nil }
            let extent = dilations[axis] * (kernel[axis] - 1) + 1
            switch autoPad {
            case "SAME_UPPER", "SAME_LOWER":
                result.append(.fixed((size + strides[axis] - 1) / strides[axis]))
            case "NOTSET", "VALID":
                let padded = size + (autoPad == "VALID" ? 0 : pads[axis] + pads[axis + spatial]) - extent
                guard padded >= 0 else { return nil }
                var out = (ceilMode ? (padded + strides[axis] - 1) / strides[axis] : padded / strides[axis]) + 1
                // ceil_mode: a last window starting inside the right padding is dropped.
                if ceilMode, (out - 1) * strides[axis] >= size + pads[axis] { out -= 1 }
                result.append(.fixed(out))
            default:
                return nil
            }
        }
        return result
    }
}
