import GhostIR

/// A Pad node's operands in one reading, for every opset form: `pads` and `value` as attributes
/// (opsets 2–10) or as inputs 1 and 2 (11+), the optional `axes` input (18+), and `mode`.
///
/// `begin[a]` and `end[a]` are the elements added before and after axis a of the input (negative
/// counts crop, as ONNX allows); axes that `axes` leaves out get 0.
struct PadParameters: Equatable {
    var mode: String
    var begin: [Int]
    var end: [Int]
    /// The fill of `constant` mode (0 when absent).
    var constantValue: Double

    static func read(_ node: Node, rank: Int, constant: (String) -> Tensor?) -> Result<PadParameters, Skip> {
        let mode = node.attribute("mode")?.stringValue ?? "constant"
        var counts: [Int64]
        var value = Double(node.attribute("value")?.floatValue ?? 0)
        if let attribute = node.attribute("pads") {
            guard let list = attribute.intsValue else { return .failure(malformed("its pads attribute is not a list of integers")) }
            counts = list
        } else {
            guard node.inputs.count > 1, !node.inputs[1].isEmpty, let tensor = constant(node.inputs[1]),
                  tensor.elementType == .int64 || tensor.elementType == .int32 else {
                return .failure(malformed("its pads are not an integer constant"))
            }
            counts = tensor.int64Values()
            if node.inputs.count > 2, !node.inputs[2].isEmpty {
                guard let tensor = constant(node.inputs[2]), tensor.elementCount == 1, let first = tensor.doubleValues().first else {
                    return .failure(malformed("its constant_value is not a constant scalar"))
                }
                value = first
            }
        }
        var axes = Array(0..<rank)
        if node.inputs.count > 3, !node.inputs[3].isEmpty {
            guard let tensor = constant(node.inputs[3]), tensor.elementType == .int64 || tensor.elementType == .int32 else {
                return .failure(malformed("its axes are not an integer constant"))
            }
            axes = []
            for axis in tensor.int64Values() {
                guard axis >= -Int64(rank), axis < Int64(rank) else { return .failure(malformed("axis \(axis) is outside rank \(rank)")) }
                let resolved = Int(axis < 0 ? axis + Int64(rank) : axis)
                guard !axes.contains(resolved) else { return .failure(malformed("axis \(axis) is listed twice")) }
                axes.append(resolved)
            }
        }
        guard counts.count == 2 * axes.count else {
            return .failure(malformed("it has \(counts.count) pads for \(axes.count) axes"))
        }
        var begin = [Int](repeating: 0, count: rank), end = begin
        for (position, axis) in axes.enumerated() {
            guard let before = Int(exactly: counts[position]), let after = Int(exactly: counts[position + axes.count]),
                  before.magnitude < 1 << 40, after.magnitude < 1 << 40 else {
                return .failure(malformed("its pads \(counts) are out of range"))
            }
            begin[axis] = before
            end[axis] = after
        }
        return .success(PadParameters(mode: mode, begin: begin, end: end, constantValue: value))
    }

    /// The padded shape, nil when an axis would have a negative size.
    func padded(_ shape: [Int]) -> [Int]? {
        guard shape.count == begin.count else { return nil }
        var result: [Int] = []
        for (axis, size) in shape.enumerated() {
            // Counts are below 2^40 (read checks), so the sum cannot overflow for any real size.
            let (grown, overflow) = size.addingReportingOverflow(begin[axis] + end[axis])
            guard !overflow, grown >= 0 else { return nil }
            result.append(grown)
        }
        return result
    }

    private static func malformed(_ why: String) -> Skip {
        Skip(.padOperandMalformed, "the Pad cannot be read: \(why)")
    }
}
