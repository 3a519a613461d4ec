import GhostIR

/// `merge-parallel-convs`
///
/// **Given** a branch sum (an Add, or a tree of Adds nothing else reads) whose every operand is
/// `Convᵢ(x, Kᵢ, bᵢ)` on the same x with identical geometry — kernel size, strides, pads,
/// dilation 1, group — after `pad-kernel-to-3x3` and `batchnorm-to-depthwise-conv` aligned them,
/// **Result** one `Conv(x, ΣKᵢ, Σbᵢ)` taking the root Add's output name. Convolution is linear
/// in its weights, so the sum of the branches' outputs is the output of the summed weights.
/// k-way: any number of branches (MobileOne has several 3×3 branches, a 1×1 scale branch and an
/// identity BN).
///
/// **Conditions**: every branch output feeds only the tree; equal output channels and shapes.
/// The RepGhost block `Add(BN(DWConv3×3(x)), BN(x))` ends here as one depthwise 3×3 Conv.
public struct MergeParallelConvs: GraphPass {
    public let name = "merge-parallel-convs"

    public init() {}

    public func run(on graph: inout Graph, log: inout PassLog) throws(PassError) {
        guard BranchSum.mayExist(in: graph) else { return }
        let index = GraphIndex(graph)
        var editor = GraphEditor(graph)
        for sum in BranchSum.find(in: index) {
            let anchor = index.name(sum.root)
            let alignment: BranchAlignment
            switch BranchAlignment.check(sum, index: index) {
            case .failure(let skip):
                log.skipped(anchor, because: skip.reason)
                continue
            case .success(let checked):
                alignment = checked
            }
            // Earlier passes align the branches; a sum still unaligned waits for them.
            guard !sum.leaves.contains(where: \.branch.isIdentityLike),
                  alignment.convs.values.allSatisfy({ $0 == alignment.convs.values.first }) else { continue }
            let convIndices = sum.leaves.compactMap { if case .conv(let i) = $0.branch { i } else { nil } }
            let nodes = Array(Set(convIndices)).sorted() + sum.adds
            guard editor.isFree(nodes) else { continue }
            var total: ConvWeights?
            for convIndex in convIndices {
                guard case .success(let weights) = ConvWeights.read(index.node(convIndex), index: index),
                      total == nil || total?.shape == weights.shape else {
                    total = nil
                    break
                }
                if var running = total {
                    running.add(weights)
                    total = running
                } else {
                    total = weights
                }
            }
            guard let total else {
                log.skipped(anchor, because: "a branch's weights could not be read")
                continue
            }
            let first = index.node(convIndices[0])
            let fusedFrom = nodes.flatMap { provenance(index.node($0)) }
            let merged = try editor.makeConv(
                named: first.name, input: sum.input, weights: total, attributes: alignment.reference.attributes,
                output: index.node(sum.root).outputs[0], fusedFrom: fusedFrom, pass: name)
            editor.replace(nodes, with: merged)
            log.rewrote(nodes.map(index.name), into: merged.name)
        }
        graph = editor.finish()
    }
}
