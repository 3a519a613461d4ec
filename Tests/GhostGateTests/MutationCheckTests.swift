import Foundation
import GhostGate
import GhostIR
import GhostMutation
import GhostONNX
import GhostPasses
import Testing
import TestSupport

private func bundled(_ id: String) -> ModelEntry {
    let root = repositoryRoot.appendingPathComponent("Models").path
    return ModelEntry(root: root, relativePath: "\(id)/model.onnx", path: root + "/\(id)/model.onnx")
}

private func configuration(kinds: [Mutant.Kind], perKind: Int = 1, samples: Int = 2) -> MutationConfiguration {
    var configuration = MutationConfiguration()
    configuration.kinds = kinds
    configuration.perKind = perKind
    configuration.gate.samples = samples
    return configuration
}

/// The gate's answer to a caught mutant: exit 3, and the first divergence is the mutated node.
private func expectCaughtAtTheNode(_ record: MutationRecord, kinds: Set<Mutant.Kind>, _ comment: Comment? = nil) {
    #expect(record.baseline.outcome == .equivalent, "the correct fusion passes: \(record.baseline.headline(criterion: ""))")
    #expect(record.notRun == nil)
    #expect(Set(record.kinds.filter { !$0.mutants.isEmpty }.map(\.kind)) == kinds, "every kind has a site")
    for result in record.mutants {
        #expect(result.verdict == .caught, "\(record.path): \(MutationReport.line(result))")
        #expect(result.exitCode == 3)
        #expect(result.firstDivergence?.node == result.mutant.node, "\(record.path): \(MutationReport.line(result))")
        #expect(result.divergencePlace == .mutatedNode)
        #expect((result.firstDivergence?.relativeError ?? 0) > 1e-5)
    }
}

/// Every kind that has a site in a fused bundled model (all but change-epsilon: folding removed
/// every BatchNormalization) is caught on two models and named at the mutated node. Two mutants
/// per kind; the sites come from the picker with seed 0. mobilenetv3_small_025 is fused from
/// torchscript BNs; repghostnet_025_opset13 is the training form (branches merged by the passes).
@Test(arguments: ["mobilenetv3_small_025", "repghostnet_025_opset13"])
func everyKindIsCaughtAtTheMutatedNode(model: String) throws {
    let kinds: [Mutant.Kind] = [.scaleWeight, .zeroBias, .swapKernels, .permuteChannel, .swapActivation]
    let record = MutationCheck.run(bundled(model), configuration: configuration(kinds: kinds, perKind: 2, samples: 2))
    expectCaughtAtTheNode(record, kinds: Set(kinds))
    #expect(record.mutants.count == 10)
    #expect(record.kinds.first { $0.kind == .changeEpsilon } == nil)
    let epsilon = MutationCheck.run(bundled(model), configuration: configuration(kinds: [.changeEpsilon]))
    #expect(epsilon.kinds.map(\.noSite?.isEmpty) == [false], "no normalization is left: 'no site', not a miss")
    #expect(MutationExitCode.of([record, epsilon]) == 0)
}

/// change-epsilon needs a normalization, so the "correct fusion" here leaves every BN in place
/// (BN folding disabled): the mutant is caught at the BatchNormalization it changed.
@Test(arguments: ["mobilenetv3_small_025", "repghostnet_025_opset13"])
func changedEpsilonIsCaughtWhereBatchNormsRemain(model: String) throws {
    let keepBN = try PassPipeline.default.disabling(["fold-batchnorm-into-conv", "batchnorm-to-depthwise-conv"])
    let record = MutationCheck.run(bundled(model), configuration: configuration(kinds: [.changeEpsilon], perKind: 2), pipeline: keepBN)
    expectCaughtAtTheNode(record, kinds: [.changeEpsilon])
    #expect(record.mutants.count == 2)
    for result in record.mutants {
        guard case .changeEpsilon(_, let from, let to) = result.mutant else { Issue.record("\(result.mutant)"); continue }
        #expect(abs(from - 1e-5) < 1e-9 && to == 1e-3)
    }
}

/// Each activation the bundled MobileNetV3 holds (Relu, HardSigmoid, HardSwish), swapped for its
/// confusion: caught at that node, or for Relu → Relu6 equivalent when no input exceeds 6.
@Test func everyActivationSwapIsCaughtOrShownEquivalent() throws {
    let entry = bundled("mobilenetv3_small_025")
    let fused = try PassPipeline.default.run(try ONNXModelLoader.load(path: entry.path).graph).graph
    var mutants: [Mutant] = []
    for opType in ["Relu", "HardSigmoid", "HardSwish"] {
        let node = try #require(fused.nodes.first { $0.opType == opType })
        let from = try #require(Activation.of(node, in: fused))
        for to in from.confusions { mutants.append(.swapActivation(node: node.name, from: from, to: to)) }
    }
    let record = MutationCheck.run(entry, configuration: configuration(kinds: [.swapActivation]), mutants: mutants)
    #expect(record.mutants.count == 4)
    for result in record.mutants {
        if case .swapActivation(_, .relu, .relu6) = result.mutant, result.verdict == .equivalent {
            #expect(result.reason?.contains("exceeds 6") == true)
            continue
        }
        #expect(result.verdict == .caught, "\(MutationReport.line(result))")
        #expect(result.firstDivergence?.node == result.mutant.node)
    }
}

/// x → Conv (two identical 1×1 kernels with equal biases, a third one) → Relu → y.
private func twinKernels() throws -> Graph {
    var initializers = InitializerTable()
    initializers["W"] = try Tensor(float32: [0.5, -1, 2, 0.5, -1, 2, 1, 1, -0.25], shape: [3, 3, 1, 1])
    initializers["b"] = try Tensor(float32: [0.1, 0.1, -0.3], shape: [3])
    return Graph(
        name: "twins",
        inputs: [Value(name: "x", elementType: .float32, shape: [.fixed(1), .fixed(3), .fixed(4), .fixed(4)])],
        outputs: [Value(name: "y", elementType: .float32)],
        initializers: initializers,
        nodes: [Node(name: "Conv_0", opType: "Conv", inputs: ["x", "W", "b"], outputs: ["c"]),
                Node(name: "Relu_1", opType: "Relu", inputs: ["c"], outputs: ["y"])],
        metadata: ModelMetadata(producerName: "gate-tests", producerVersion: "1"))
}

/// Swapping two identical kernels changes nothing: the gate passes it and the report says why,
/// instead of counting a miss; swapping a differing pair in the same graph is caught.
@Test func identicalKernelsSwappedAreAnEquivalentMutant() throws {
    let root = try temporaryDirectory("mutation")
    defer { try? FileManager.default.removeItem(at: root) }
    try Fixtures.write(try twinKernels(), to: root.appendingPathComponent("twins/model.onnx"))
    let entry = ModelEntry(root: root.path, relativePath: "twins/model.onnx", path: root.appendingPathComponent("twins/model.onnx").path)
    let record = MutationCheck.run(entry, configuration: configuration(kinds: [.swapKernels]),
                                   mutants: [.swapKernels(node: "Conv_0", first: 0, second: 1),
                                             .swapKernels(node: "Conv_0", first: 1, second: 2)])
    let results = record.mutants
    #expect(results.map(\.verdict) == [.equivalent, .caught])
    #expect(results.first?.reason?.hasPrefix("identical kernels") == true)
    #expect(results.first?.exitCode == 0)
    #expect(results.last?.firstDivergence?.node == "Conv_0")
    #expect(MutationExitCode.of([record]) == 0)
    // The picker, left to itself, never picks the twins.
    let picked = MutationCheck.run(entry, configuration: configuration(kinds: [.swapKernels], perKind: 1))
    #expect(picked.mutants.map(\.verdict) == [.caught])
}

/// A defect too small for the tolerance is reported as missed, with how far the node moved; the
/// exit code says the gate has a hole.
@Test func aMutantBelowTheToleranceIsReportedAsMissed() throws {
    let root = try temporaryDirectory("mutation")
    defer { try? FileManager.default.removeItem(at: root) }
    try Fixtures.write(try twinKernels(), to: root.appendingPathComponent("twins/model.onnx"))
    let entry = ModelEntry(root: root.path, relativePath: "twins/model.onnx", path: root.appendingPathComponent("twins/model.onnx").path)
    let record = MutationCheck.run(entry, configuration: configuration(kinds: [.scaleWeight]),
                                   mutants: [.scaleWeight(node: "Conv_0", input: 1, factor: 1 + 1e-6)])
    let result = try #require(record.mutants.first)
    #expect(result.verdict == .missed)
    #expect(result.exitCode == 0)
    let moved = try #require(result.mutatedNodeRelativeError)
    #expect(moved > 1e-7 && moved < 1.1e-6, "the node moved by ~1e-6 of its largest value: \(moved)")
    #expect(result.reason?.contains("stayed within the tolerance") == true)
    #expect(MutationExitCode.of([record]) == 3)
}

/// A correct fusion that the gate already fails makes mutants meaningless: none is run, and the
/// record says why.
@Test func mutantsAreNotRunWhenTheCorrectFusionFails() throws {
    let root = try temporaryDirectory("mutation")
    defer { try? FileManager.default.removeItem(at: root) }
    try Fixtures.write(try Fixtures.cancellingBatchNorm(), to: root.appendingPathComponent("c/model.onnx"))
    let entry = ModelEntry(root: root.path, relativePath: "c/model.onnx", path: root.appendingPathComponent("c/model.onnx").path)
    let record = MutationCheck.run(entry, configuration: MutationConfiguration())
    #expect(record.baseline.outcome == .notEquivalent)
    #expect(record.kinds.isEmpty)
    #expect(record.notRun?.contains("already NOT equivalent") == true)
    #expect(MutationExitCode.of([record]) == 3)
    let table = MutationReport.markdown([record], configuration: MutationConfiguration())
    #expect(table.contains("| c/model.onnx | **fails**"))
    #expect(table.contains("mutants not run"))
}

@Test func markdownCountsEachKindPerModel() throws {
    let record = MutationCheck.run(bundled("tiny_external"), configuration: configuration(kinds: Mutant.Kind.allCases))
    let table = MutationReport.markdown([record], configuration: configuration(kinds: Mutant.Kind.allCases))
    let row = try #require(table.split(separator: "\n").first { $0.hasPrefix("| tiny_external/model.onnx") })
    let rel = String(format: "%.2e", record.baseline.worstRelativeError ?? 0)
    #expect(row == "| tiny_external/model.onnx | passes, rel \(rel) | 1 caught | 1 caught | 1 caught | 1 caught | 1 caught | no site |")
    #expect(table.contains("No site:\n- change-epsilon (1 model)"))
}
