import GhostIR

/// Index arithmetic shared by shape inference and the constant evaluator: ONNX's axis, Slice
/// and Shape-range conventions, with the attribute forms of old opsets and the input forms of new
/// ones (Slice-1 attributes vs Slice-10 inputs, Unsqueeze/Squeeze-1/11 `axes` attribute vs the
/// opset-13 input). A form is recognized by what the node carries, so a file whose opset import
/// and node forms disagree is read as the node is written.
enum ShapeOps {
    /// `axis` in [−rank, rank) (or [−rank, rank] when `inclusive`, as Flatten allows), made
    /// non-negative; nil when out of range.
    static func axis(_ axis: Int64, rank: Int, inclusive: Bool = false) -> Int? {
        let limit = Int64(rank) + (inclusive ? 1 : 0)
        guard axis >= -Int64(rank), axis < limit else { return nil }
        return Int(axis < 0 ? axis + Int64(rank) : axis)
    }

    /// The dimensions `Shape` reports: [start, end) clamped to [0, rank] after adding rank to
    /// negative values (opset 15; earlier opsets have neither attribute: the whole shape).
    static func shapeRange(rank: Int, node: Node) -> Range<Int> {
        func clamp(_ value: Int64) -> Int {
            let shifted = value < 0 ? value + Int64(rank) : value
            return Int(min(max(shifted, 0), Int64(rank)))
        }
        let start = clamp(node.attribute("start")?.intValue ?? 0)
        let end = clamp(node.attribute("end")?.intValue ?? Int64(rank))
        return start..<max(start, end)
    }

    /// Unsqueeze/Squeeze axes: `.some(nil)` when absent (Squeeze then drops every 1), nil when
    /// they are given by a value that is not a constant.
    static func axesOperand(_ node: Node, constant: (String) -> Tensor?) -> [Int64]?? {
        if let axes = node.attribute("axes")?.intsValue { return .some(axes) }
        guard node.inputs.count > 1, !node.inputs[1].isEmpty else { return .some(nil) }
        guard let tensor = constant(node.inputs[1]), !tensor.elementType.isFloatingPoint else { return nil }
        return .some(tensor.int64Values())
    }

    /// Unsqueeze: axes refer to the output rank; duplicates or out-of-range axes give nil.
    static func unsqueezed<D>(_ shape: [D], axes: [Int64], one: D) -> [D]? {
        let rank = shape.count + axes.count
        var inserted = Set<Int>()
        for axis in axes {
            guard let resolved = self.axis(axis, rank: rank), inserted.insert(resolved).inserted else { return nil }
        }
        var result: [D] = []
        var source = shape[...]
        for axis in 0..<rank {
            if inserted.contains(axis) {
                result.append(one)
            } else if let dim = source.popFirst() {
                result.append(dim)
            }
        }
        return result
    }

    static func unsqueezed(_ shape: [Dim], axes: [Int64]) -> [Dim]? { unsqueezed(shape, axes: axes, one: Dim.fixed(1)) }

    /// Squeeze of the given axes, each of which must have size 1.
    static func squeezed(_ shape: [Dim], axes: [Int64]) -> [Dim]? {
        var removed = Set<Int>()
        for axis in axes {
            guard let resolved = self.axis(axis, rank: shape.count), shape[resolved] == .fixed(1) else { return nil }
            removed.insert(resolved)
        }
        return shape.enumerated().filter { !removed.contains($0.offset) }.map(\.element)
    }

    struct SliceAxis {
        let axis: Int
        let start: Int64
        let end: Int64
        let step: Int64

        /// Whether this range keeps every element whatever the size (start 0, step 1, an end of
        /// at least 2³¹ − 1 as exporters write for `:`).
        var keepsEverything: Bool { step == 1 && start == 0 && end >= Int64(Int32.max) }
    }

    /// The per-axis ranges of a Slice (attribute form before opset 10, input form after); nil
    /// when an operand is not constant or malformed (lengths differ, axis out of range or
    /// repeated, step 0).
    static func sliceParameters(_ node: Node, rank: Int, constant: (String) -> Tensor?) -> [SliceAxis]? {
        var starts: [Int64], ends: [Int64], axes: [Int64]?, steps: [Int64]?
        if let attributeStarts = node.attribute("starts")?.intsValue {
            guard let attributeEnds = node.attribute("ends")?.intsValue else { return nil }
            starts = attributeStarts
            ends = attributeEnds
            axes = node.attribute("axes")?.intsValue
        } else {
            func operand(_ position: Int) -> [Int64]?? {
                guard node.inputs.count > position, !node.inputs[position].isEmpty else { return .some(nil) }
                guard let tensor = constant(node.inputs[position]), !tensor.elementType.isFloatingPoint, tensor.rank == 1 else { return nil }
                return .some(tensor.int64Values())
            }
            guard let s = operand(1), let e = operand(2), let a = operand(3), let t = operand(4),
                  let s, let e else { return nil }
            starts = s
            ends = e
            axes = a
            steps = t
        }
        let axisList = axes ?? (0..<Int64(starts.count)).map { $0 }
        let stepList = steps ?? Array(repeating: 1, count: starts.count)
        guard ends.count == starts.count, axisList.count == starts.count, stepList.count == starts.count else { return nil }
        var seen = Set<Int>()
        var result: [SliceAxis] = []
        for position in starts.indices {
            guard let axis = self.axis(axisList[position], rank: rank), seen.insert(axis).inserted,
                  stepList[position] != 0 else { return nil }
            result.append(SliceAxis(axis: axis, start: starts[position], end: ends[position], step: stepList[position]))
        }
        return result
    }

    /// The first index and the length of `start:end:step` on an axis of `size` elements: negative
    /// bounds count from the end, then start and end are clamped to [0, size] (step > 0) or
    /// start to [0, size − 1] and end to [−1, size − 1] (step < 0).
    static func sliceRange(size: Int, start: Int64, end: Int64, step: Int64) -> (first: Int, count: Int) {
        let length = Int64(size)
        var first = start < 0 ? start + length : start
        var last = end < 0 ? end + length : end
        if step > 0 {
            first = min(max(first, 0), length)
            last = min(max(last, 0), length)
            guard last > first else { return (Int(first), 0) }
            return (Int(first), Int((last - first - 1) / step + 1))
        }
        first = min(max(first, 0), length - 1)
        last = min(max(last, -1), length - 1)
        guard first > last else { return (Int(max(first, 0)), 0) }
        return (Int(first), Int((first - last - 1) / -step + 1))
    }

    static func sliceLength(size: Int, start: Int64, end: Int64, step: Int64) -> Int {
        sliceRange(size: size, start: start, end: end, step: step).count
    }
}
