import GhostIR

/// `pad-kernel-to-3x3` — the alignment step of a merge, reported on its own in `--explain`.
///
/// **Given** a mergeable branch sum (see `BranchAlignment`) whose largest Conv branch has a
/// K×K kernel and pads P, and a Conv branch with a smaller k×k kernel and pads p,
/// **Result** the smaller branch's kernel is zero-padded to K×K, centred, and its pads become P:
///
///     K'[o, i, a + (K−k)/2, b + (K−k)/2] = K[o, i, a, b],   zero elsewhere;   pads' = P
///
/// which computes the same output exactly when P − p = (K − k)/2 on every side (checked, with
/// asymmetric pads and resolved auto_pad). The name says 3×3 after the RepVGG/RepGhost case of
/// 1×1 into 3×3; any odd difference of sizes, in any spatial rank, works the same way.
///
/// **Conditions**: as for the merge — otherwise padding would only make the branch slower.
public struct PadKernelToCentre: GraphPass {
    public let name = "pad-kernel-to-3x3"

    public init() {}

    public func run(on graph: inout Graph, log: inout PassLog) throws(PassError) {
        guard BranchSum.mayExist(in: graph) else { return }
        let index = GraphIndex(graph)
        var editor = GraphEditor(graph)
        for sum in BranchSum.find(in: index) where !sum.leaves.contains(where: \.branch.isIdentityLike) {
            guard case .success(let alignment) = BranchAlignment.check(sum, index: index) else {
                continue  // merge-parallel-convs reports why
            }
            let smaller = alignment.convs.filter { $0.value.kernel != alignment.reference.kernel }.keys.sorted()
            guard !smaller.isEmpty, editor.isFree(smaller) else { continue }
            for convIndex in smaller {
                let conv = index.node(convIndex)
                guard case .success(let weights) = ConvWeights.read(conv, index: index),
                      let geometry = alignment.convs[convIndex] else { continue }
                let padded = weights.centred(in: alignment.reference.kernel)
                var target = alignment.reference
                target.outputChannels = geometry.outputChannels
                let replacement = try editor.makeConv(
                    named: conv.name, input: conv.inputs[0], weights: padded, attributes: target.attributes,
                    output: conv.outputs[0], fusedFrom: provenance(conv), pass: name)
                editor.replace([convIndex], with: replacement)
                log.rewrote([index.name(convIndex)], into: replacement.name)
            }
        }
        graph = editor.finish()
    }
}
