import GhostIR

/// The entries of a small integer vector built from shapes — `Concat(Unsqueeze(Gather(Shape(x),
/// 0)), [2], [58], …)` — as known sizes or the symbols of x's dimensions. Scalars and one-element
/// vectors are both a one-entry list (the graph's own validity fixes the ranks).
struct ShapeVectors {
    let index: GraphIndex
    let shapes: StaticShapes

    func entries(of value: String, depth: Int = 0) -> [Dim]? {
        guard depth < 32 else { return nil }
        if let tensor = index.constant(value) {
            guard !tensor.elementType.isFloatingPoint, tensor.rank <= 1 else { return nil }
            return tensor.int64Values().map { Dim.fixed(Int($0)) }
        }
        guard let (_, node) = index.producerNode(of: value), node.domain.isEmpty, let source = node.inputs.first else { return nil }
        switch node.opType {
        case "Shape":
            guard let dims = shapes.shape(of: source) else { return nil }
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
        default:
            return nil
        }
    }
}
