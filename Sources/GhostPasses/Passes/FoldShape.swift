import GhostIR

/// `fold-shape`
///
/// **Given** `y = Shape(x)` (with `start`/`end` from opset 15), or `y = Gather(Shape(x), i)` /
/// `y = Slice(Shape(x), …)` with constant indices,
/// **Result** y is an initializer: the int64 sizes of x's dimensions that y selects.
///
/// **Conditions**: every selected dimension of x is statically known (`StaticShapes`: declared
/// input dims, initializers, value_info, and forward inference through the operators in front of
/// the Shape); a selection that includes a symbolic dimension (a dynamic batch) is skipped —
/// `fold-reshape-target` handles the Reshape it usually feeds. y is not a graph output.
public struct FoldShape: SweepPass {
    public let name = "fold-shape"

    public init() {}

    var sweptOperators: Set<String> { ["Shape"] }

    func sweep(_ index: GraphIndex, log: inout PassLog) -> GraphEdits? {
        let shapes = LazyStaticShapes(index)
        var editor = GraphEditor(index)
        var rewrote = false
        for (position, node) in index.graph.nodes.enumerated() where node.domain.isEmpty {
            guard let output = node.outputs.first, !output.isEmpty, let vector = selectedDims(node, index: index, shapes: shapes) else { continue }
            let sizes = vector.dims.compactMap(\.fixedValue)
            guard sizes.count == vector.dims.count else {
                log.skipped(index.name(position), Skip(.shapeNotStatic,
                    "the dimensions it selects are not all known: \(vector.dims.map(describe).joined(separator: ", "))"))
                continue
            }
            guard !index.isGraphOutput(output) else {
                log.skipped(index.name(position), Skip(.outputIsGraphOutput, "its output '\(output)' is a graph output"))
                continue
            }
            guard let tensor = try? Tensor(int64: sizes.map(Int64.init), shape: vector.scalar ? [] : [sizes.count]) else { continue }
            editor.replace([position], with: nil)
            editor.setInitializer(output, tensor)
            log.rewrote([index.name(position)], into: output)
            rewrote = true
        }
        return rewrote ? editor.finish() : nil
    }

    private func describe(_ dim: Dim) -> String {
        switch dim {
        case .fixed(let size): String(size)
        case .symbol(let name): name
        }
    }

    /// The dimensions a Shape, or a Gather/Slice of a Shape's output, yields; nil for other nodes
    /// and for a Gather/Slice whose indices are not constant.
    private func selectedDims(_ node: Node, index: GraphIndex, shapes: LazyStaticShapes) -> (dims: [Dim], scalar: Bool)? {
        switch node.opType {
        case "Shape":
            guard let input = node.inputs.first, let dims = shapes.shape(of: input) else {
                return ([.symbol("unknown rank")], false)
            }
            return (Array(dims[ShapeOps.shapeRange(rank: dims.count, node: node)]), false)
        case "Gather", "Slice":
            guard let source = node.inputs.first, let (_, producer) = index.producerNode(of: source), producer.isONNX("Shape"),
                  let input = producer.inputs.first, let all = shapes.shape(of: input) else { return nil }
            let dims = Array(all[ShapeOps.shapeRange(rank: all.count, node: producer)])
            if node.opType == "Gather" {
                guard node.inputs.count == 2, let indices = index.constant(node.inputs[1]), !indices.elementType.isFloatingPoint,
                      indices.rank <= 1, (node.attribute("axis")?.intValue ?? 0) == 0 || node.attribute("axis")?.intValue == -1 else { return nil }
                var picked: [Dim] = []
                for value in indices.int64Values() {
                    guard value >= -Int64(dims.count), value < Int64(dims.count) else { return nil }
                    picked.append(dims[Int(value < 0 ? value + Int64(dims.count) : value)])
                }
                return (picked, indices.rank == 0)
            }
            guard let ranges = ShapeOps.sliceParameters(node, rank: 1, constant: index.constant), let range = ranges.first else { return nil }
            let (first, count) = ShapeOps.sliceRange(size: dims.count, start: range.start, end: range.end, step: range.step)
            return ((0..<count).map { dims[first + $0 * Int(range.step)] }, false)
        default:
            return nil
        }
    }
}
