import GhostIR

/// A Conv node's geometry with defaults filled in and `auto_pad` resolved to explicit pads.
struct ConvGeometry: Equatable {
    /// Kernel spatial sizes (from the weight's shape).
    var kernel: [Int]
    var strides: [Int]
    var dilations: [Int]
    /// ONNX order: all begins, then all ends ([top, left, bottom, right] in 2-D).
    var pads: [Int]
    var groups: Int
    var outputChannels: Int
    /// Input channels per group (the weight's dimension 1).
    var inputChannelsPerGroup: Int

    var spatialRank: Int { kernel.count }
    var padBegin: [Int] { Array(pads[0..<spatialRank]) }
    var padEnd: [Int] { Array(pads[spatialRank...]) }

    /// Reads the geometry of `node` (a Conv) whose weight is `weight`. `inputShape` (NCHW…) is
    /// needed only to resolve SAME auto-padding with strides above 1, so it is asked for only then.
    static func read(_ node: Node, weight: Tensor, inputShape: @autoclosure () -> [Int]?) -> Result<ConvGeometry, Skip> {
        guard weight.rank >= 3 else { return .failure(Skip(.convWeightShape, "Conv weight has rank \(weight.rank), expected at least 3")) }
        let kernel = Array(weight.shape[2...])
        let rank = kernel.count
        func ints(_ name: String, default value: Int, count: Int) -> Result<[Int], Skip> {
            guard let attribute = node.attribute(name) else { return .success(Array(repeating: value, count: count)) }
            guard let list = attribute.intsValue, list.count == count else {
                return .failure(Skip(.convAttributeMalformed, "Conv attribute \(name) does not have \(count) integers"))
            }
            return .success(list.map { Int(clamping: $0) })
        }
        let groups = Int(clamping: node.attribute("group")?.intValue ?? 1)
        guard groups >= 1 else { return .failure(Skip(.convGroupInvalid, "Conv group is \(groups)")) }
        if let declared = node.attribute("kernel_shape")?.intsValue, declared.map({ Int(clamping: $0) }) != kernel {
            return .failure(Skip(.kernelShapeMismatch, "Conv kernel_shape \(declared) disagrees with the weight's shape \(weight.shape)"))
        }
        var geometry: ConvGeometry
        do {
            geometry = ConvGeometry(
                kernel: kernel,
                strides: try ints("strides", default: 1, count: rank).get(),
                dilations: try ints("dilations", default: 1, count: rank).get(),
                pads: try ints("pads", default: 0, count: 2 * rank).get(),
                groups: groups, outputChannels: weight.shape[0], inputChannelsPerGroup: weight.shape[1])
        } catch {
            return .failure(error)
        }
        let autoPad = node.attribute("auto_pad")?.stringValue ?? "NOTSET"
        switch autoPad {
        case "NOTSET":
            break
        case "VALID":
            geometry.pads = Array(repeating: 0, count: 2 * rank)
        case "SAME_UPPER", "SAME_LOWER":
            let inputShape = geometry.strides.contains { $0 != 1 } ? inputShape() : nil
            for axis in 0..<rank {
                let extent = (kernel[axis] - 1) * geometry.dilations[axis] + 1
                let total: Int
                if geometry.strides[axis] == 1 {
                    total = extent - 1
                } else if let inputShape, inputShape.count == rank + 2 {
                    let size = inputShape[axis + 2]
                    let outputSize = (size + geometry.strides[axis] - 1) / geometry.strides[axis]
                    total = max((outputSize - 1) * geometry.strides[axis] + extent - size, 0)
                } else {
                    return .failure(Skip(.autoPadNeedsShape, "auto_pad \(autoPad) with stride \(geometry.strides[axis]) needs the input's spatial size, which the graph does not declare"))
                }
                let small = total / 2, large = total - small
                geometry.pads[axis] = autoPad == "SAME_UPPER" ? small : large
                geometry.pads[axis + rank] = autoPad == "SAME_UPPER" ? large : small
            }
        default:
            return .failure(Skip(.autoPadUnknown, "Conv auto_pad '\(autoPad)' is not an ONNX value"))
        }
        return .success(geometry)
    }

    /// The attributes of a Conv with this geometry (explicit pads, no auto_pad).
    var attributes: [Attribute] {
        [
            Attribute(name: "kernel_shape", value: .ints(kernel.map(Int64.init))),
            Attribute(name: "strides", value: .ints(strides.map(Int64.init))),
            Attribute(name: "dilations", value: .ints(dilations.map(Int64.init))),
            Attribute(name: "pads", value: .ints(pads.map(Int64.init))),
            Attribute(name: "group", value: .int(Int64(groups))),
        ]
    }
}
