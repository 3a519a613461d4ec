import GhostIR

/// The entries of a small integer vector built from shapes — `Concat(Unsqueeze(Gather(Shape(x),
/// 0)), [2], [58], …)` — as known sizes or the symbols of x's dimensions. Scalars and one-element
/// vectors are both a one-entry list (the graph's own validity fixes the ranks).
///
/// `shape` gives the dimensions known so far, so shape inference can call this while it runs
/// forward (a Reshape's target built from the Shape of an earlier value).
enum ShapeVectors {
    static func entries(of value: String, index: GraphIndex, shape: (String) -> [Dim]?, depth: Int = 0) -> [Dim]? {
        guard depth < 32 else { return nil }
        func entries(of value: String, depth: Int) -> [Dim]? {
            Self.entries(of: value, index: index, shape: shape, depth: depth)
        }
        if let tensor = index.constant(value) {
            guard !tensor.elementType.isFloatingPoint, tensor.rank <= 1 else { return nil }
            return tensor.int64Values().map { Dim.fixed(Int($0)) }
        }
        guard let (_, node) = index.producerNode(of: value), node.domain.isEmpty, let source = node.inputs.first else { return nil }
        switch node.opType {
        case "Shape":
            guard let dims = shape(source) else { return nil }
            return Array(dims[ShapeOps.shapeRange(rank: dims.count, node: node)])
        case "Identity", "Unsqueeze", "Squeeze":
            return entries(of: source, depth: depth + 1)
        case "Cast":
            guard let target = node.attribute("to")?.intValue, target == Int64(ElementType.int64.rawValue) || target == Int64(ElementType.int32.rawValue) else { return nil }
            return entries(of: source, depth: depth + 1)
        case "Concat":
            var result: [Dim] = []
            for input in node.inputs where !input.isEmpty {
                guard let part = entries(of: input, depth: depth + 1) else { return nil }
                result += part
            }
            return result
        case "Gather":
            guard let all = entries(of: source, depth: depth + 1), node.inputs.count == 2,
                  let indices = index.constant(node.inputs[1]), !indices.elementType.isFloatingPoint else { return nil }
            var picked: [Dim] = []
            for value in indices.int64Values() {
                guard value >= -Int64(all.count), value < Int64(all.count) else { return nil }
                picked.append(all[Int(value < 0 ? value + Int64(all.count) : value)])
            }
            return picked
        case "Slice":
            guard let all = entries(of: source, depth: depth + 1),
                  let ranges = ShapeOps.sliceParameters(node, rank: 1, constant: index.constant), let range = ranges.first else { return nil }
            let (first, count) = ShapeOps.sliceRange(size: all.count, start: range.start, end: range.end, step: range.step)
            return (0..<count).map { all[first + $0 * Int(range.step)] }
        case "Add", "Sub", "Mul", "Div":
            // Known sizes only (a channel count halved for a split); a symbol makes it unknown.
            guard node.inputs.count == 2, let a = entries(of: source, depth: depth + 1), let b = entries(of: node.inputs[1], depth: depth + 1),
                  a.count == b.count || a.count == 1 || b.count == 1 else { return nil }
            var result: [Dim] = []
            for position in 0..<max(a.count, b.count) {
                guard let x = a[a.count == 1 ? 0 : position].fixedValue, let y = b[b.count == 1 ? 0 : position].fixedValue else { return nil }
                let (value, overflow): (Int, Bool)
                switch node.opType {
                case "Add": (value, overflow) = x.addingReportingOverflow(y)
                case "Sub": (value, overflow) = x.subtractingReportingOverflow(y)
                case "Mul": (value, overflow) = x.multipliedReportingOverflow(by: y)
                default:
                    guard y != 0 else { return nil }
                    (value, overflow) = x.dividedReportingOverflow(by: y)
                }
                guard !overflow else { return nil }
                result.append(.fixed(value))
            }
            return result
        default:
            return nil
        }
    }

    /// The value as a 1-D int64 constant when every entry is a known size (for Slice bounds and
    /// Reshape targets that fold-constants has not folded yet).
    static func constant(_ value: String, index: GraphIndex, shape: (String) -> [Dim]?) -> Tensor? {
        if let tensor = index.constant(value) { return tensor }
        guard let dims = entries(of: value, index: index, shape: shape) else { return nil }
        let sizes = dims.compactMap(\.fixedValue)
        guard sizes.count == dims.count else { return nil }
        return try? Tensor(int64: sizes.map(Int64.init), shape: [sizes.count])
    }
}
