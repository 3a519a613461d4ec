import GhostIR

/// `eliminate-noop-ops`
///
/// **Given** a node that returns its input unchanged:
/// `Slice` whose every range keeps the whole axis (start ≤ 0 after normalization, end ≥ size,
/// step 1), `Reshape` or `Expand` to the input's own shape, `Transpose` with perm = (0, 1, …),
/// `Pad` with all pads 0, `Cast` to the input's element type, `Concat` of one input,
/// **Result** `y = Identity(x)` (same name, provenance kept), which `eliminate-identity` bypasses
/// in the same round — and so keeps graph-output names exactly as it does.
///
/// **Conditions**: the sizes the decision depends on are known (`StaticShapes`; a full `:` range
/// is a no-op on any size, even a symbolic one); Pad's pads and Reshape/Expand's shape are
/// constants.
public struct EliminateNoopOps: SweepPass {
    public let name = "eliminate-noop-ops"
    private static let candidates: Set<String> = ["Slice", "Reshape", "Expand", "Transpose", "Pad", "Cast", "Concat"]

    public init() {}

    var sweptOperators: Set<String> { Self.candidates }

    func sweep(_ index: GraphIndex, log: inout PassLog) -> GraphEdits? {
        let shapes = LazyStaticShapes(index)
        var editor = GraphEditor(index)
        var rewrote = false
        let nodes = index.graph.nodes
        // Candidates are chosen by position, so only they are copied.
        for position in nodes.indices where nodes[position].domain.isEmpty && Self.candidates.contains(nodes[position].opType) {
            let node = nodes[position]
            guard let input = node.inputs.first, !input.isEmpty, let output = node.outputs.first, !output.isEmpty else { continue }
            do {
                guard try isNoop(node, index: index, shapes: shapes) else { continue }
            } catch {
                log.skipped(index.name(position), error)
                continue
            }
            let identity = Node(name: node.name, opType: "Identity", inputs: [input], outputs: [output],
                                fusedFrom: node.fusedFrom.isEmpty ? [index.name(position)] : node.fusedFrom)
            editor.replace([position], with: identity)
            log.rewrote([index.name(position)], into: identity.name)
            rewrote = true
        }
        return rewrote ? editor.finish() : nil
    }

    /// false: recognizably not a no-op (no skip is logged: most Transposes are real); a throw:
    /// it might be one, but what decides it is not known.
    private func isNoop(_ node: Node, index: GraphIndex, shapes: LazyStaticShapes) throws(Skip) -> Bool {
        let input = node.inputs[0]
        switch node.opType {
        case "Transpose":
            guard let perm = node.attribute("perm")?.intsValue else {
                // Default perm reverses the axes: a no-op only at rank ≤ 1.
                return shapes.shape(of: input).map { $0.count <= 1 } ?? false
            }
            return perm == (0..<Int64(perm.count)).map { $0 }
        case "Cast":
            guard let target = node.attribute("to")?.intValue else { return false }
            guard let type = shapes.types[input] else {
                throw Skip(.noopShapeUnknown, "the input's element type is not known", status: .notMatched)
            }
            return Int64(type.rawValue) == target
        case "Concat":
            return node.inputs.filter { !$0.isEmpty }.count == 1
        case "Pad":
            let pads: [Int64]
            if let attribute = node.attribute("pads")?.intsValue {
                pads = attribute
            } else if node.inputs.count > 1, !node.inputs[1].isEmpty {
                guard let tensor = index.constant(node.inputs[1]) else {
                    throw Skip(.noopShapeUnknown, "the pads are computed at run time", status: .notMatched)
                }
                pads = tensor.int64Values()
            } else {
                return false
            }
            return pads.allSatisfy { $0 == 0 }
        case "Slice":
            guard let dims = shapes.shape(of: input) else {
                throw Skip(.noopShapeUnknown, "the input's rank is not known", status: .notMatched)
            }
            guard let ranges = ShapeOps.sliceParameters(node, rank: dims.count, constant: index.constant) else {
                throw Skip(.noopShapeUnknown, "the slice parameters are not constants", status: .notMatched)
            }
            for range in ranges where !range.keepsEverything {
                guard range.step == 1 else { return false }
                guard let size = dims[range.axis].fixedValue else {
                    throw Skip(.noopShapeUnknown, "axis \(range.axis) has no known size", status: .notMatched)
                }
                let (first, count) = ShapeOps.sliceRange(size: size, start: range.start, end: range.end, step: range.step)
                guard first == 0, count == size else { return false }
            }
            return true
        case "Reshape", "Expand":
            guard node.inputs.count > 1, index.constant(node.inputs[1]) != nil else { return false }
            guard let before = shapes.shape(of: input), let after = shapes.shape(of: node.outputs[0]) else {
                throw Skip(.noopShapeUnknown, "the input's shape is not known", status: .notMatched)
            }
            return before == after
        default:
            return false
        }
    }
}
