import GhostIR
import GhostInterpreter
import TestSupport
@testable import GhostPasses
import Testing

/// The randomized sweep of `merge-sequential-convs`: kernel sizes 1–7 (odd and even,
/// non-square), strides 1–2, pads symmetric, asymmetric and every auto_pad mode, dilation 1–2,
/// groups 1, 2 and depthwise, biases present, zero or absent, Conv or AveragePool stages. Every
/// case is merged exactly (against the Float64 oracle) or refused with a code — never a wrong
/// merge.
@Test func sequentialMergeSweepIsExactOrRefused() throws {
    var random = SeededRandom(seed: 20261201)
    var merged = 0, refused: [String: Int] = [:]
    var cases = 0
    while cases < 320 {
        guard let (graph, shape) = makeCase(&random) else { continue }
        cases += 1
        var log = PassLog()
        var after = graph
        try MergeSequentialConvs().run(on: &after, log: &log)
        #expect(GraphVerifier.defects(in: after).isEmpty)
        // Every 8th case, the oracle itself against the interpreter (auto_pad, pools, groups).
        if cases % 8 == 0 {
            for checked in [graph, after] {
                let difference = try oracleAgainstInterpreter(checked, shape: shape, seed: UInt64(cases))
                #expect(difference <= 1e-12, "case \(cases): NaiveEvaluator and the interpreter differ by \(difference)")
            }
        }
        if log.rewrites.isEmpty {
            #expect(log.skipped.count == 1, "case \(cases): neither merged nor refused")
            #expect(after == graph)
            for skip in log.skipped { refused[skip.code, default: 0] += 1 }
        } else {
            merged += 1
            #expect(after.count("Conv") == 1 && after.count("AveragePool") == 0)
            let difference = try NaiveEvaluator.relativeDifference(graph, after, shape: shape, seed: UInt64(cases))
            #expect(difference <= 1e-11, "case \(cases): wrong merge, relative difference \(difference): \(graph.nodes.map(\.attributes))")
        }
    }
    #expect(merged >= 50, "only \(merged) merges")
    #expect(refused.values.reduce(0, +) >= 80, "only \(refused) refusals")
    #expect(refused.keys.contains("sequential-bias-under-padding") && refused.keys.contains("sequential-kernels-both-spatial"))
}

private struct Stage {
    var kernel: [Int], strides: [Int], dilations: [Int]
    var padMode: String, pads: [Int]
    var pool: Bool, includePad: Int, groups: Int

    /// Output size along `axis` for input `size`, as ONNX defines it; nil when empty.
    func outputSize(_ size: Int, axis: Int) -> Int? {
        let extent = (kernel[axis] - 1) * dilations[axis] + 1
        let total: Int
        switch padMode {
        case "VALID": total = 0
        case "SAME_UPPER", "SAME_LOWER":
            return (size + strides[axis] - 1) / strides[axis]
        default: total = pads[axis] + pads[axis + 2]
        }
        let numerator = size + total - extent
        return numerator >= 0 ? numerator / strides[axis] + 1 : nil
    }

    var attributes: [Attribute] {
        var list = [Attribute(name: "kernel_shape", value: .ints(kernel.map(Int64.init))),
                    Attribute(name: "strides", value: .ints(strides.map(Int64.init))),
                    Attribute(name: "dilations", value: .ints(dilations.map(Int64.init)))]
        if padMode == "NOTSET" {
            list.append(Attribute(name: "pads", value: .ints(pads.map(Int64.init))))
        } else {
            list.append(Attribute(name: "auto_pad", value: .string(Array(padMode.utf8))))
        }
        if pool {
            list.append(Attribute(name: "count_include_pad", value: .int(Int64(includePad))))
        } else {
            list.append(Attribute(name: "group", value: .int(Int64(groups))))
        }
        return list
    }
}

private func makeStage(_ random: inout SeededRandom, pointwise: Bool, pool: Bool, groups: Int) -> Stage {
    func pick(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &random) }
    let kernel = pointwise ? [1, 1] : [pick(1...7), pick(1...7)]
    let modes = ["NOTSET", "NOTSET", "NOTSET", "VALID", "SAME_UPPER", "SAME_LOWER"]
    let mode = modes[pick(0...(modes.count - 1))]
    var pads = [0, 0, 0, 0]
    switch pick(0...2) {
    case 0: break
    case 1: let p = pick(0...2); pads = [p, p, p, p]
    default: pads = (0..<4).map { _ in pick(0...2) }
    }
    // ONNX Runtime refuses pool pads not smaller than the kernel.
    if pool { pads = pads.enumerated().map { min($0.element, kernel[$0.offset % 2] - 1) } }
    return Stage(kernel: kernel, strides: [pick(1...2), pick(1...2)], dilations: pool ? [1, 1] : [pick(1...2), pick(1...2)],
                 padMode: mode, pads: pads, pool: pool, includePad: pick(0...1), groups: groups)
}

private func makeCase(_ random: inout SeededRandom) -> (Graph, [Int])? {
    func pick(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &random) }
    let channels = 4, size = pick(6...12)
    let middle = [4, 8][pick(0...1)], outputs = [4, 8][pick(0...1)]
    let firstIsPool = pick(0...9) == 0, secondIsPool = !firstIsPool && pick(0...4) == 0
    // Mostly one pointwise stage (the mergeable shape), sometimes neither.
    let pointwise = pick(0...9)
    let groupChoices = [1, 1, 2, 4]
    let groupsA = firstIsPool ? channels : groupChoices[pick(0...3)]
    let a = makeStage(&random, pointwise: pointwise < 4, pool: firstIsPool, groups: groupsA)
    let aOut = firstIsPool ? channels : middle
    let groupsB = secondIsPool ? aOut : groupChoices[pick(0...3)]
    let b = makeStage(&random, pointwise: pointwise >= 4 && pointwise < 8, pool: secondIsPool, groups: groupsB)
    let bOut = secondIsPool ? aOut : outputs
    guard let h1 = a.outputSize(size, axis: 0), let w1 = a.outputSize(size, axis: 1),
          b.outputSize(h1, axis: 0) != nil, b.outputSize(w1, axis: 1) != nil else { return nil }
    let shape = [1, channels, size, size]
    var builder = TestGraphBuilder(shape: shape, seed: UInt64(pick(1...1_000_000)))
    func addStage(_ stage: Stage, name: String, input: String, inChannels: Int, outChannels: Int) -> String {
        if stage.pool { return builder.op("AveragePool", name, [input], attributes: stage.attributes) }
        let perGroup = inChannels / stage.groups
        let weight = builder.constant("\(name).W", builder.random.floats(outChannels * perGroup * stage.kernel[0] * stage.kernel[1]),
                                      shape: [outChannels, perGroup] + stage.kernel)
        var inputs = [input, weight]
        switch Int.random(in: 0...3, using: &builder.random) {
        case 0: break
        case 1: inputs.append(builder.constant("\(name).B", Array(repeating: 0, count: outChannels), shape: [outChannels]))
        default: inputs.append(builder.constant("\(name).B", builder.random.floats(outChannels), shape: [outChannels]))
        }
        return builder.op("Conv", name, inputs, attributes: stage.attributes)
    }
    let first = addStage(a, name: "A", input: "x", inChannels: channels, outChannels: aOut)
    var last = addStage(b, name: "B", input: first, inChannels: aOut, outChannels: bOut)
    if pick(0...9) < 7 {
        last = builder.op("Add", "Sum", [last, builder.constant("zero", [0], shape: [1])])
    }
    builder.output(last)
    return (builder.graph, shape)
}

private func oracleAgainstInterpreter(_ graph: Graph, shape: [Int], seed: UInt64) throws -> Double {
    var random = SeededRandom(seed: seed)
    let values = (0..<shape.reduce(1, *)).map { _ in random.uniform(-2, 2) }
    let naive = try NaiveEvaluator.run(graph, input: NaiveEvaluator.Array4(shape: shape, values: values))
    let output = graph.outputs[0].name
    let interpreted = try Interpreter(graph: graph, precision: .float64).run(["x": try Tensor(float64: values, shape: shape)])
    guard let a = naive[output], let b = interpreted[output] else { return .infinity }
    guard a.shape == b.shape else { return .infinity }
    return relativeDifference(b.doubleValues(), a.values)
}
