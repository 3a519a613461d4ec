import GhostIR
import TestSupport
import Testing

@testable import GhostPasses

/// The randomized sweep of issue 14 for parallel branches: two or three Conv branches (and
/// sometimes an identity BN) on one input, with kernel sizes 1–7 (odd and even), strides 1–2,
/// symmetric, asymmetric and auto_pad padding, dilation 1–2 and groups. Each sum must either
/// merge into one Conv computing the same values (Float64 oracle, 1e-12), or stay with every
/// skipped site carrying a code — never a wrong merge, never a silent refusal.
@Test func parallelBranchSweepMergesExactlyOrSaysWhy() throws {
    var random = SeededRandom(seed: 20261201)
    func pick<T>(_ choices: [T]) -> T { choices[Int(random.next() % UInt64(choices.count))] }
    var merged = 0, refused = 0
    var codes: [String: Int] = [:]
    for case_ in 0..<240 {
        let groups = pick([1, 1, 2, 4])
        let channels = groups * pick([1, 2])
        let size = pick([5, 6, 7, 8])
        let stride = pick([1, 1, 2])
        var builder = TestGraphBuilder(shape: [1, channels, size, size], seed: UInt64(case_ + 1))
        var branches: [String] = []
        for b in 0..<pick([2, 2, 3]) {
            let kernel = pick([1, 2, 3, 3, 4, 5, 7])
            let dilation = pick([1, 1, 1, 2])
            let extent = (kernel - 1) * dilation
            let padding: [Int]
            var extra: [Attribute] = []
            switch pick(["centred", "centred", "asymmetric", "same-upper", "same-lower", "valid"]) {
            case "centred":
                padding = Array(repeating: extent / 2, count: 4)
            case "asymmetric":
                padding = [extent / 2, extent - extent / 2, extent - extent / 2, extent / 2]
            case "same-upper":
                padding = [0, 0, 0, 0]
                extra = [Attribute(name: "auto_pad", value: .string(Array("SAME_UPPER".utf8)))]
            case "same-lower":
                padding = [0, 0, 0, 0]
                extra = [Attribute(name: "auto_pad", value: .string(Array("SAME_LOWER".utf8)))]
            default:
                padding = [0, 0, 0, 0]
                extra = [Attribute(name: "auto_pad", value: .string(Array("VALID".utf8)))]
            }
            // Explicit pads and auto_pad are exclusive in ONNX: drop `pads` when auto_pad is set.
            var conv = builder.conv("c\(b)", "x", out: channels, in: channels / groups, kernel: kernel, pads: padding,
                                    strides: stride, dilation: dilation, group: groups, bias: pick([true, false]), extra: extra)
            if !extra.isEmpty, let last = builder.graph.nodes.indices.last {
                builder.graph.nodes[last].attributes.removeAll { $0.name == "pads" }
            }
            if pick([true, false]) { conv = builder.batchNorm("c\(b).bn", conv, channels: channels) }
            branches.append(conv)
        }
        if stride == 1, pick([true, false, false]) { branches.append(builder.batchNorm("skip", "x", channels: channels)) }
        var sum = branches[0]
        for (position, branch) in branches.dropFirst().enumerated() {
            sum = builder.op(pick(["Add", "Add", "Sub"]), "sum\(position)", [sum, branch])
        }
        builder.output(sum)
        // Branches whose output sizes differ are not a valid graph (the Add would not broadcast):
        // the oracle refuses to run them, so they are not cases.
        guard let before = try? NaiveEvaluator.relativeDifference(builder.graph, builder.graph, shape: [1, channels, size, size]),
              before == 0 else { continue }
        let result = try fuse(builder.graph)
        let difference = try NaiveEvaluator.relativeDifference(builder.graph, result.graph, shape: [1, channels, size, size])
        #expect(difference <= 1e-12, "case \(case_): wrong merge, rel \(difference)")
        if result.graph.count("Conv") == 1, result.graph.count("Add") + result.graph.count("Sub") == 0 {
            merged += 1
        } else {
            refused += 1
            let skipped = result.reports.flatMap(\.skipped)
            #expect(!skipped.isEmpty, "case \(case_): a sum stayed and no pass said why")
            #expect(skipped.allSatisfy { SkipCode(rawValue: $0.code) != nil && $0.status != "conflict" })
            for skip in skipped { codes[skip.code, default: 0] += 1 }
        }
    }
    // The sweep must exercise both outcomes and several distinct refusals.
    #expect(merged >= 20, "merged \(merged)")
    #expect(refused >= 20, "refused \(refused)")
    #expect(codes.count >= 3, "codes \(codes)")
}
