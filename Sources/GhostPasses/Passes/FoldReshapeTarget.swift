import GhostIR

/// `fold-reshape-target`
///
/// **Given** `y = Reshape(x, t)` where t is computed from shapes (`ShapeVectors`: Shape, Gather,
/// Slice, Unsqueeze, Concat, Cast of constants and of x's or another value's dimensions) to
/// entries that are known sizes t₀ … except one entry that is a symbol s (the dynamic batch),
/// **Result** `y = Reshape(x, t')` with t' the constant t with −1 in place of s.
///
/// **Conditions**: x's shape is known sizes and s exactly once; Πₖ x-sizes = Πₖ known t-entries
/// > 0, so Reshape's −1 resolves to s·Π/Π = s for every value of s (0 included); no known entry is
/// 0 (which would copy a dimension). This is how a dynamic-batch channel shuffle (ShuffleNetV2)
/// loses its Shape/Gather/Unsqueeze/Concat chain.
public struct FoldReshapeTarget: SweepPass {
    public let name = "fold-reshape-target"

    public init() {}

    var sweptOperators: Set<String> { ["Reshape"] }

    func sweep(_ index: GraphIndex, log: inout PassLog) -> GraphEdits? {
        let shapes = LazyStaticShapes(index)
        var editor = GraphEditor(index)
        var rewrote = false
        for (position, node) in index.graph.nodes.enumerated() where node.isONNX("Reshape") && node.inputs.count == 2 {
            guard index.constant(node.inputs[1]) == nil else { continue }
            let target: [Int64]
            do {
                target = try resolve(node, index: index, shapes: shapes)
            } catch {
                log.skipped(index.name(position), error)
                continue
            }
            guard let tensor = try? Tensor(int64: target, shape: [target.count]) else { continue }
            var replacement = node
            replacement.inputs[1] = editor.addInitializer(tensor, preferredName: "\(node.name.isEmpty ? "reshape" : node.name)_shape")
            replacement.fusedFrom = [index.name(position)]
            editor.replace([position], with: replacement)
            log.rewrote([index.name(position)], into: replacement.name)
            rewrote = true
        }
        return rewrote ? editor.finish() : nil
    }

    private func resolve(_ node: Node, index: GraphIndex, shapes: LazyStaticShapes) throws(Skip) -> [Int64] {
        guard let entries = ShapeVectors.entries(of: node.inputs[1], index: index, shape: shapes.shape(of:)) else {
            throw Skip(.reshapeTargetUnresolved, "the target shape is not computed from shapes and constants alone")
        }
        guard let input = shapes.shape(of: node.inputs[0]) else {
            throw Skip(.reshapeTargetUnresolved, "the input's shape is not known")
        }
        let symbols = entries.enumerated().filter { $0.element.fixedValue == nil }
        guard symbols.count == 1, let symbol = symbols.first else {
            throw Skip(.reshapeTargetUnresolved, "the target has \(symbols.count) unknown entries (exactly one can become −1)")
        }
        guard input.filter({ $0.fixedValue == nil }) == [symbol.element] else {
            throw Skip(.reshapeTargetUnresolved, "the input's unknown dimensions are not exactly the target's one symbol")
        }
        var inputProduct = 1, targetProduct = 1
        for size in input.compactMap(\.fixedValue) {
            let (next, overflow) = inputProduct.multipliedReportingOverflow(by: size)
            guard !overflow else { throw Skip(.reshapeTargetUnresolved, "the input's size overflows") }
            inputProduct = next
        }
        for size in entries.compactMap(\.fixedValue) {
            let (next, overflow) = targetProduct.multipliedReportingOverflow(by: size)
            guard !overflow, size > 0 else { throw Skip(.reshapeTargetUnresolved, "a known target entry is ≤ 0 or the product overflows") }
            targetProduct = next
        }
        guard inputProduct == targetProduct else {
            throw Skip(.reshapeTargetUnresolved, "the known sizes multiply to \(inputProduct) in the input and \(targetProduct) in the target")
        }
        return entries.map { Int64($0.fixedValue ?? -1) }
    }
}
