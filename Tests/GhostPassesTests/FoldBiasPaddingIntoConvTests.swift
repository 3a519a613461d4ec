import Foundation
import GhostIR
import GhostInterpreter
import GhostNumPy
import GhostONNX
import TestSupport
@testable import GhostPasses
import Testing

/// How a test branch writes the padded border.
private struct BorderForm {
    /// The value written at channel c (given the 1×1's bias there); nil writes nothing.
    var value: ((Int, Double) -> Double)? = { _, bias in bias }
    /// Whether position (h, w) of the padded plane is written (default: the whole border).
    var writes: ((Int, Int, _ size: Int, _ pad: Int) -> Bool) = { h, w, size, pad in
        h < pad || w < pad || h >= size + pad || w >= size + pad
    }
}

/// x [1, C, S, S] → 1×1 Conv A (bias b) [→ BN] → Pad p (constant) → ScatterND writing the border →
/// 3×3 Conv B without padding: DBB's 1×1 → k×k branch after the BN fold, as the exporters write it.
private func branch(channels: Int = 3, size: Int = 5, pad: Int = 1, stride: Int = 1, mode: String? = nil,
                    padChannels: Bool = false, batchNorm: Bool = false, border: BorderForm = BorderForm(),
                    padIsAlsoOutput: Bool = false, updatesComputed: Bool = false, padsAsAttribute: Bool = false,
                    elementType: ElementType = .float64) throws -> Graph {
    var builder = TestGraphBuilder(shape: [1, channels, size, size], seed: 11, elementType: elementType)
    var value = builder.conv("A", "x", out: channels, in: channels, kernel: 1, pads: [0, 0, 0, 0], strides: stride, bias: true)
    if batchNorm { value = builder.batchNorm("BN", value, channels: channels) }
    let bias = try #require(builder.graph.initializers["A.B"]).doubleValues()
    let counts: [Int64] = padChannels ? [0, 1, pad, pad, 0, 0, pad, pad].map(Int64.init) : [0, 0, pad, pad, 0, 0, pad, pad].map(Int64.init)
    var attributes: [Attribute] = mode.map { [Attribute(name: "mode", value: .string(Array($0.utf8)))] } ?? []
    var padInputs = [value]
    if padsAsAttribute {
        attributes.append(Attribute(name: "pads", value: .ints(counts)))
    } else {
        builder.graph.initializers["pads"] = try Tensor(int64: counts, shape: [8])
        padInputs.append("pads")
    }
    let padded = builder.op("Pad", "Pad", padInputs, attributes: attributes)
    var result = padded
    let extent = size / stride + (size % stride == 0 ? 0 : 1) + 2 * pad
    if let write = border.value {
        var tuples: [Int64] = [], values: [Double] = []
        for c in 0..<channels + (padChannels ? 1 : 0) {
            for h in 0..<extent {
                for w in 0..<extent where border.writes(h, w, extent - 2 * pad, pad) {
                    tuples += [0, Int64(c), Int64(h), Int64(w)]
                    values.append(write(c, c < bias.count ? bias[c] : 0))
                }
            }
        }
        builder.graph.initializers["indices"] = try Tensor(int64: tuples, shape: [values.count, 4])
        builder.graph.initializers["updates"] = elementType == .float64
            ? try Tensor(float64: values, shape: [values.count]) : try Tensor(float32: values.map(Float.init), shape: [values.count])
        var updatesName = "updates"
        if updatesComputed { updatesName = builder.op("Relu", "Computed", ["updates"]) }
        result = builder.op("ScatterND", "Write", [padded, "indices", updatesName])
    }
    if padIsAlsoOutput { builder.output(padded) }
    builder.output(builder.conv("B", result, out: 2, in: channels + (padChannels ? 1 : 0), kernel: 3, pads: [0, 0, 0, 0]))
    return builder.graph
}

private func skips(_ graph: Graph) throws -> [SkippedSite] {
    try runPass(FoldBiasPaddingIntoConv(), graph).1.skipped
}

@Test func borderWrittenWithTheBiasBecomesThePaddedPointwiseConv() throws {
    let graph = try branch()
    let (after, log) = try runPass(FoldBiasPaddingIntoConv(), graph)
    #expect(after.nodes.map(\.opType) == ["Conv", "Conv"])
    let conv = try #require(after.nodes.first)
    #expect(conv.attribute("pads")?.intsValue == [1, 1, 1, 1])
    #expect(conv.outputs == ["Write.out"] && conv.fusedFrom == ["A", "Pad", "Write"])
    #expect(log.rewrites == [RewriteRecord(replaced: ["A", "Pad", "Write"], result: "A")])
    #expect(try NaiveEvaluator.relativeDifference(graph, after, shape: [1, 3, 5, 5]) <= 1e-12)
}

@Test func theWholeBranchBecomesOneConvThroughTheSequentialMerge() throws {
    let graph = try branch(channels: 4, size: 6, pad: 1)
    let result = try fuse(graph)
    #expect(result.graph.nodes.map(\.opType) == ["Conv"])
    #expect(result.graph.nodes.first?.attribute("pads")?.intsValue == [1, 1, 1, 1])
    #expect(try NaiveEvaluator.relativeDifference(graph, result.graph, shape: [1, 4, 6, 6]) <= 1e-12)
}

@Test func aBatchNormalizationFirstFoldsThenThePadFollows() throws {
    // The rule alone waits for the fold (which makes the 1×1's bias known).
    let graph = try branch(batchNorm: true, border: BorderForm(value: nil))
    let waiting = try #require(try skips(graph).first)
    #expect(waiting.code == "waits-for-batchnorm-fold" && waiting.status == "waits-for" && waiting.waitsFor == "fold-batchnorm-into-conv")
    #expect(FoldBiasPaddingIntoConv().requires == ["fold-batchnorm-into-conv"])
}

@Test func aPlainZeroPadAfterABiasIsRefusedAndAfterNoBiasIsTaken() throws {
    let refused = try skips(branch(border: BorderForm(value: nil)))
    #expect(refused.map(\.code) == ["pad-border-not-covered"])
    // The same Pad after a 1×1 whose bias is zero: the zero fill is the bias.
    var graph = try branch(border: BorderForm(value: nil))
    graph.initializers["A.B"] = try Tensor(float64: [0, 0, 0], shape: [3])
    let (after, log) = try runPass(FoldBiasPaddingIntoConv(), graph)
    #expect(log.rewrites.count == 1 && after.count("Pad") == 0)
    #expect(try NaiveEvaluator.relativeDifference(graph, after, shape: [1, 3, 5, 5]) <= 1e-12)
}

@Test func padsGivenAsAnAttributeAreRead() throws {
    let graph = try branch(pad: 2, padsAsAttribute: true)
    let (after, _) = try runPass(FoldBiasPaddingIntoConv(), graph)
    #expect(after.nodes.first?.attribute("pads")?.intsValue == [2, 2, 2, 2])
    #expect(try NaiveEvaluator.relativeDifference(graph, after, shape: [1, 3, 5, 5]) <= 1e-12)
}

@Test func float32BorderWithinTheToleranceIsTakenAndBeyondItIsRefused() throws {
    // One float32 ulp off the bias: PyTorch's own rounding of β − μγ/√(σ²+ε).
    let close = try branch(border: BorderForm(value: { _, bias in Double(Float(bias).nextUp) }), elementType: .float32)
    #expect(try runPass(FoldBiasPaddingIntoConv(), close).1.rewrites.count == 1)
    // 1e-4 off: another value.
    let far = try branch(border: BorderForm(value: { _, bias in bias + 1e-4 }), elementType: .float32)
    #expect(try skips(far).map(\.code) == ["pad-border-not-bias"])
}

@Test func borderValuesThatAreNotTheBiasAreRefused() throws {
    #expect(try skips(branch(border: BorderForm(value: { c, bias in c == 2 ? bias * 1.01 : bias }))).map(\.code) == ["pad-border-not-bias"])
    #expect(try skips(branch(border: BorderForm(value: { _, bias in -bias }))).map(\.code) == ["pad-border-not-bias"])
}

@Test func stripsThatMissPartOfTheBorderAreRefused() throws {
    // Only the top and bottom strips: the left and right columns keep the zero fill.
    let form = BorderForm(writes: { h, _, size, pad in h < pad || h >= size + pad })
    #expect(try skips(branch(border: form)).map(\.code) == ["pad-border-not-covered"])
}

@Test func writesIntoTheInteriorAreRefused() throws {
    let form = BorderForm(writes: { h, w, size, pad in h < pad || w < pad || h >= size + pad || w >= size + pad || (h == 2 && w == 3) })
    #expect(try skips(branch(border: form)).map(\.code) == ["pad-interior-changed"])
}

@Test func everyOtherRefusalHasItsCode() throws {
    #expect(try skips(branch(mode: "reflect")).map(\.code) == ["pad-mode-not-constant"])
    #expect(try skips(branch(mode: "edge")).map(\.code) == ["pad-mode-not-constant"])
    #expect(try skips(branch(stride: 2)).map(\.code) == ["pad-conv-strided"])
    #expect(try skips(branch(padChannels: true)).map(\.code) == ["pad-operand-malformed"])
    #expect(try skips(branch(updatesComputed: true)).map(\.code) == ["pad-border-write-malformed"])
    // The padded value is also read before its border is written.
    let shared = try skips(branch(padIsAlsoOutput: true))
    #expect(shared.map(\.code) == ["output-shared"])
}

@Test func aTransposedStripWriteIsFollowed() throws {
    // The dynamo form: Transpose to [H, C, N, W], ScatterND rows 0 and H−1, Transpose back,
    // then the columns as a [N, C, H, W] tuple write.
    var builder = TestGraphBuilder(shape: [1, 2, 4, 4], seed: 5)
    let a = builder.conv("A", "x", out: 2, in: 2, kernel: 1, pads: [0, 0, 0, 0], bias: true)
    let bias = try #require(builder.graph.initializers["A.B"]).doubleValues()
    builder.graph.initializers["pads"] = try Tensor(int64: [0, 0, 1, 1, 0, 0, 1, 1], shape: [8])
    let padded = builder.op("Pad", "Pad", [a, "pads"])
    let t = builder.op("Transpose", "T1", [padded], attributes: [Attribute(name: "perm", value: .ints([2, 1, 0, 3]))])
    builder.graph.initializers["rows"] = try Tensor(int64: [0, 5], shape: [2, 1])
    // updates [2 rows, C, N, W] = bias[c]
    let rowValues = (0..<2).flatMap { _ in (0..<2).flatMap { c in Array(repeating: bias[c], count: 6) } }
    builder.graph.initializers["rowUpdates"] = try Tensor(float64: rowValues, shape: [2, 2, 1, 6])
    let rows = builder.op("ScatterND", "Rows", [t, "rows", "rowUpdates"])
    let back = builder.op("Transpose", "T2", [rows], attributes: [Attribute(name: "perm", value: .ints([2, 1, 0, 3]))])
    var tuples: [Int64] = [], values: [Double] = []
    for c in 0..<2 { for h in 0..<6 { for w in [0, 5] { tuples += [0, Int64(c), Int64(h), w == 0 ? 0 : 5]; values.append(bias[c]) } } }
    builder.graph.initializers["columns"] = try Tensor(int64: tuples, shape: [values.count, 4])
    builder.graph.initializers["columnUpdates"] = try Tensor(float64: values, shape: [values.count])
    let written = builder.op("ScatterND", "Columns", [back, "columns", "columnUpdates"])
    builder.output(builder.conv("B", written, out: 3, in: 2, kernel: 3, pads: [0, 0, 0, 0]))
    let (after, log) = try runPass(FoldBiasPaddingIntoConv(), builder.graph)
    #expect(log.rewrites.first?.replaced == ["A", "Pad", "T1", "Rows", "T2", "Columns"])
    #expect(after.nodes.map(\.opType) == ["Conv", "Conv"])
    #expect(try NaiveEvaluator.relativeDifference(builder.graph, after, shape: [1, 2, 4, 4]) <= 1e-12)
    // A transpose left in place moves the interior.
    var moved = builder.graph
    moved.nodes.removeAll { $0.name == "T2" }
    if let index = moved.nodes.firstIndex(where: { $0.name == "Columns" }) { moved.nodes[index].inputs[0] = rows }
    let code = try skips(moved).first?.code
    #expect(code == "pad-border-write-malformed" || code == "pad-interior-changed")
}

// MARK: - The exported DBB block (Samples/blocks/export_dbb_pad_blocks.py)

private func dbbPadBlocks() -> [ExportedBlock] {
    struct Manifest: Decodable { let blocks: [ExportedBlock] }
    guard let data = try? Data(contentsOf: ExportedBlock.directory.appendingPathComponent("manifest_dbb_pad.json")) else { return [] }
    return (try? JSONDecoder().decode(Manifest.self, from: data).blocks) ?? []
}

@Test func everyDBBPadExportIsPresent() {
    // torchscript_unfolded: torch's default export, with the pad value as float32 arithmetic on
    // the BN's tensors, which fold-constants computes before the rule reads it.
    #expect(dbbPadBlocks().map(\.exporter).sorted() == ["dynamo", "torchscript", "torchscript_unfolded"])
}

@Test(arguments: dbbPadBlocks())
func exportedDBBWithBiasPaddingFusesToOneConv(_ block: ExportedBlock) throws {
    let directory = ExportedBlock.directory.appendingPathComponent(block.id)
    let model = try ONNXModelLoader.load(path: directory.appendingPathComponent("model.onnx").path)
    let result = try fuse(model.graph)
    for (op, count) in block.expect_fused {
        #expect(result.graph.count(op) == count, "\(block.id): \(op) \(result.graph.count(op)), expected \(count); \(result.reports.flatMap(\.skipped).map(\.reason))")
    }
    #expect(result.graph.nodes.map(\.opType) == ["Conv", "Relu"])
    #expect(result.report("fold-bias-padding-into-conv")?.rewrites.count == 2)
    // The fused graph against ONNX Runtime's output of the original.
    let input = try NumPyFile.read(path: directory.appendingPathComponent("input.npy").path)
    let expected = try NumPyFile.read(path: directory.appendingPathComponent("output.npy").path)
    let outputs = try Interpreter(graph: result.graph, precision: .float32).run([result.graph.runtimeInputs[0].name: input])
    let output = try #require(outputs[result.graph.outputs[0].name])
    let difference = relativeDifference(output.doubleValues(), expected.doubleValues())
    #expect(difference <= 1e-5, "\(block.id): relative difference \(difference)")
}

// MARK: - A seeded sweep

/// One sweep case: x [N, C, H, W] → 1×1 (bias) → Pad (asymmetric counts) → one ScatterND over the
/// border tuples → Conv k×k unpadded. `spoil` changes one border write (or drops it).
private func sweepCase(_ random: inout SeededRandom, spoil: Int) throws -> (Graph, [Int]) {
    let n = Int.random(in: 1...2, using: &random), c = Int.random(in: 1...4, using: &random)
    let h = Int.random(in: 2...6, using: &random), w = Int.random(in: 2...6, using: &random)
    let counts = (0..<4).map { _ in Int.random(in: 0...2, using: &random) }  // top, left, bottom, right
    let (ph, pw) = (h + counts[0] + counts[2], w + counts[1] + counts[3])
    let kernel = min(ph, pw) >= 3 ? [1, 3][Int.random(in: 0...1, using: &random)] : 1
    var builder = TestGraphBuilder(shape: [n, c, h, w], seed: random.next())
    let a = builder.conv("A", "x", out: c, in: c, kernel: 1, pads: [0, 0, 0, 0], bias: true)
    let bias = try #require(builder.graph.initializers["A.B"]).doubleValues()
    builder.graph.initializers["pads"] = try Tensor(int64: [0, 0, counts[0], counts[1], 0, 0, counts[2], counts[3]].map(Int64.init), shape: [8])
    let padded = builder.op("Pad", "Pad", [a, "pads"])
    var tuples: [Int64] = [], values: [Double] = []
    for batch in 0..<n {
        for channel in 0..<c {
            for y in 0..<ph {
                for x in 0..<pw where y < counts[0] || x < counts[1] || y >= counts[0] + h || x >= counts[1] + w {
                    tuples += [batch, channel, y, x].map(Int64.init)
                    values.append(bias[channel])
                }
            }
        }
    }
    if !values.isEmpty, spoil == 1 { values[Int.random(in: 0..<values.count, using: &random)] += 0.25 }
    if !values.isEmpty, spoil == 2 {
        let drop = Int.random(in: 0..<values.count, using: &random)
        values.remove(at: drop)
        tuples.removeSubrange(4 * drop..<4 * drop + 4)
    }
    var written = padded
    if !values.isEmpty {
        builder.graph.initializers["indices"] = try Tensor(int64: tuples, shape: [values.count, 4])
        builder.graph.initializers["updates"] = try Tensor(float64: values, shape: [values.count])
        written = builder.op("ScatterND", "Write", [padded, "indices", "updates"])
    }
    builder.output(builder.conv("B", written, out: 2, in: c, kernel: kernel, pads: [0, 0, 0, 0]))
    return (builder.graph, [n, c, h, w])
}

@Test func seededSweepIsExactOrRefusedWithACode() throws {
    var random = SeededRandom(seed: 2026)
    var taken = 0, refused = 0
    for round in 0..<60 {
        let spoil = round % 3
        let (graph, shape) = try sweepCase(&random, spoil: spoil)
        let hasBorder = graph.nodes.contains { $0.opType == "ScatterND" }
        let result = try fuse(graph)
        let report = try #require(result.report("fold-bias-padding-into-conv"))
        if spoil == 0 || !hasBorder {
            // An intact border (or no border at all: a zero Pad) leaves no Pad behind.
            #expect(result.graph.count("Pad") == 0, "round \(round): \(report.skipped.map(\.reason))")
            #expect(result.graph.count("Conv") == 1)
            taken += 1
        } else {
            #expect(report.rewrites.isEmpty && result.graph.count("Pad") == 1, "round \(round)")
            #expect(report.skipped.map(\.code) == [spoil == 1 ? "pad-border-not-bias" : "pad-border-not-covered"], "round \(round)")
            refused += 1
        }
        #expect(try NaiveEvaluator.relativeDifference(graph, result.graph, shape: shape) <= 1e-12, "round \(round)")
    }
    #expect(taken >= 20 && refused >= 30)
}
