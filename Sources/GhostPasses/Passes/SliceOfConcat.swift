import GhostIR

/// `slice-of-concat`
///
/// **Given** `y = Slice(Concat(a₁, …, aₙ; axis k), starts, ends, axes)` slicing only axis k with
/// step 1,
/// **Result** `y = Identity(aⱼ)` when the range is exactly aⱼ's span along k,
/// [Σ_{i<j} |aᵢ|ₖ, Σ_{i≤j} |aᵢ|ₖ); `eliminate-identity` then bypasses it, and the Concat goes
/// with `eliminate-dead-nodes` once nothing else reads it.
///
/// **Conditions**: every operand's size along k is known; the slice parameters are constants.
/// (A Slice keeping the whole Concat is `eliminate-noop-ops`'s.)
public struct SliceOfConcat: SweepPass {
    public let name = "slice-of-concat"

    public init() {}

    var sweptOperators: Set<String> { ["Slice"] }

    func sweep(_ index: GraphIndex, log: inout PassLog) -> GraphEdits? {
        let shapes = LazyStaticShapes(index)
        var editor = GraphEditor(index)
        var rewrote = false
        for (position, node) in index.graph.nodes.enumerated() where node.isONNX("Slice") {
            guard let source = node.inputs.first, let (_, concat) = index.producerNode(of: source), concat.isONNX("Concat"),
                  let output = node.outputs.first, !output.isEmpty else { continue }
            let operand: String
            do {
                operand = try keptOperand(node, concat: concat, index: index, shapes: shapes)
            } catch {
                log.skipped(index.name(position), error)
                continue
            }
            let identity = Node(name: node.name, opType: "Identity", inputs: [operand], outputs: [output], fusedFrom: [index.name(position)])
            editor.replace([position], with: identity)
            log.rewrote([index.name(position)], into: identity.name)
            rewrote = true
        }
        return rewrote ? editor.finish() : nil
    }

    private func keptOperand(_ slice: Node, concat: Node, index: GraphIndex, shapes: LazyStaticShapes) throws(Skip) -> String {
        let operands = concat.inputs.filter { !$0.isEmpty }
        guard let rank = operands.first.flatMap({ shapes.shape(of: $0)?.count }),
              let axis = ShapeOps.axis(concat.attribute("axis")?.intValue ?? 0, rank: rank) else {
            throw Skip(.noopShapeUnknown, "the Concat's operand ranks are not known", status: .notMatched)
        }
        guard let ranges = ShapeOps.sliceParameters(slice, rank: rank, constant: index.constant) else {
            throw Skip(.noopShapeUnknown, "the slice parameters are not constants", status: .notMatched)
        }
        let sliced = ranges.filter { !$0.keepsEverything }
        guard sliced.count == 1, let range = sliced.first, range.axis == axis, range.step == 1 else {
            throw Skip(.sliceNotAnOperand, "it slices other axes than the Concat's, or with a step", status: .notMatched)
        }
        var sizes: [Int] = []
        for operand in operands {
            guard let dims = shapes.shape(of: operand), dims.count == rank, let size = dims[axis].fixedValue else {
                throw Skip(.noopShapeUnknown, "operand '\(operand)' has no known size on axis \(axis)", status: .notMatched)
            }
            sizes.append(size)
        }
        let total = sizes.reduce(0, +)
        let (first, count) = ShapeOps.sliceRange(size: total, start: range.start, end: range.end, step: 1)
        var offset = 0
        for (operand, size) in zip(operands, sizes) {
            if first == offset, count == size { return operand }
            offset += size
        }
        throw Skip(.sliceNotAnOperand, "the range [\(first), \(first + count)) is not one operand's span", status: .notMatched)
    }
}
