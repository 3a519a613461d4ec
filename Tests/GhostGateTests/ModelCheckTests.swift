import Foundation
import GhostGate
import GhostIR
import GhostONNX
import GhostPasses
import Testing
import TestSupport

/// A bad-input directory: each broken model is its own error record with its code, the good ones
/// still pass, and --output-dir holds only the good ones' files.
@Test func badModelsAreTheirOwnRecords() throws {
    let root = try temporaryDirectory("gate")
    let output = try temporaryDirectory("gate")
    defer {
        try? FileManager.default.removeItem(at: root)
        try? FileManager.default.removeItem(at: output)
    }
    let good = try Fixtures.convBatchNorm()
    try Fixtures.write(good, to: root.appendingPathComponent("good/model.onnx"))
    try Fixtures.write(try Fixtures.unsupportedOperator(), to: root.appendingPathComponent("unsupported/model.onnx"))
    let bytes = try Data(contentsOf: root.appendingPathComponent("good/model.onnx"))
    try bytes.prefix(bytes.count / 2).write(to: root.appendingPathComponent("truncated.onnx"))
    try Data("name,value\nnot a model,1\n".utf8).write(to: root.appendingPathComponent("table.onnx"))
    try Data().write(to: root.appendingPathComponent("empty.onnx"))
    try FileManager.default.createSymbolicLink(atPath: root.appendingPathComponent("loop").path, withDestinationPath: ".")

    let entries = try ModelDiscovery.discover([root.path])
    var configuration = GateConfiguration()
    configuration.samples = 2
    configuration.outputDirectory = output.path
    configuration.formats = [.gwt, .onnx]
    let records = Gate(configuration: configuration, jobs: 2, workers: .inProcess()).run(entries)
    let codes = Dictionary(uniqueKeysWithValues: records.map { ($0.path, $0.error?.code ?? $0.outcome.rawValue) })
    #expect(codes == [
        "empty.onnx": "empty-file",
        "good/model.onnx": "equivalent",
        "loop": "symlink-loop",
        "table.onnx": "malformed-protobuf",
        "truncated.onnx": "malformed-protobuf",
        "unsupported/model.onnx": "unsupported-operator",
    ])
    #expect(records.map(\.path) == entries.map(\.relativePath), "records keep the discovery order")
    #expect(GateExitCode.of(records) == 2)
    let unsupported = try #require(records.first { $0.path == "unsupported/model.onnx" })
    #expect(unsupported.error?.message.contains("Mystery_2") == true, "the message names the node")

    let passed = try #require(records.first { $0.outcome == .equivalent })
    #expect(passed.nodes == GateRecord.NodeCounts(before: 3, after: 2))
    #expect(passed.passes.first { $0.pass == "fold-batchnorm-into-conv" }?.rewrites == 1)
    #expect(passed.outputs.map(\.output) == ["y"])
    #expect((passed.worstRelativeError ?? 1) < 1e-6)
    #expect(passed.written == [output.appendingPathComponent("good/model.gwt").path, output.appendingPathComponent("good/model.onnx").path])
    // Only the equivalent model's files, and no temporary files left behind.
    #expect(files(under: output) == ["good/model.gwt", "good/model.onnx"])
}

/// A fusion that breaks a weight (the default pipeline, then one fused kernel scaled by 1 + 1e-4)
/// is caught and localized to that kernel.
@Test func mutatedFusionIsNotEquivalentAndNamed() throws {
    let root = try temporaryDirectory("gate")
    defer { try? FileManager.default.removeItem(at: root) }
    let model = root.appendingPathComponent("block.onnx")
    try FileManager.default.copyItem(at: repositoryRoot.appendingPathComponent("Tests/Fixtures/blocks/repghost_module_torchscript/model.onnx"),
                                     to: model)
    let pipeline = PassPipeline(passes: PassPipeline.default.passes + [ScaleFirstFusedKernel()])
    var configuration = GateConfiguration()
    configuration.samples = 2
    let record = ModelCheck.run(ModelEntry(root: root.path, relativePath: "block.onnx", path: model.path),
                                configuration: configuration, pipeline: pipeline)
    #expect(record.outcome == .notEquivalent, "\(record)")
    let divergence = try #require(record.firstDivergence)
    let fused = try PassPipeline.default.run(try ONNXModelLoader.load(path: model.path).graph).graph
    #expect(divergence.node == ScaleFirstFusedKernel.target(in: fused)?.name)
    #expect(!divergence.fusedFrom.isEmpty)
    #expect(divergence.relativeError > 1e-5)
    #expect(record.outputs.contains { !$0.passed })
    #expect(GateExitCode.of([record]) == 3)
}

/// Precision lost by folding itself: a BatchNormalization that cancels a large offset cannot be
/// folded into float32 weights within 1e-5; the gate says so and names the fused Conv.
@Test func lossyFoldIsCaught() throws {
    let root = try temporaryDirectory("gate")
    defer { try? FileManager.default.removeItem(at: root) }
    let model = root.appendingPathComponent("cancel.onnx")
    try Fixtures.write(try Fixtures.cancellingBatchNorm(), to: model)
    let record = ModelCheck.run(ModelEntry(root: root.path, relativePath: "cancel.onnx", path: model.path), configuration: GateConfiguration())
    #expect(record.outcome == .notEquivalent, "\(record)")
    #expect(Set(record.firstDivergence?.fusedFrom ?? []) == ["Conv_1", "BN_2"])
    #expect((record.worstRelativeError ?? 0) > 1e-4)
}

@Test func exitCodeRule() {
    let entry = ModelEntry(root: "r", relativePath: "m.onnx", path: "r/m.onnx")
    func records(_ outcomes: [GateOutcome]) -> [GateRecord] { outcomes.map { GateRecord(entry: entry, outcome: $0) } }
    #expect(GateExitCode.of(records([])) == 0)
    #expect(GateExitCode.of(records([.equivalent, .equivalent])) == 0)
    #expect(GateExitCode.of(records([.equivalent, .notEquivalent])) == 3)
    #expect(GateExitCode.of(records([.error, .equivalent])) == 2)
    // Could-not-check wins over not-equivalent; skipped models count for nothing.
    #expect(GateExitCode.of(records([.notEquivalent, .error])) == 2)
    #expect(GateExitCode.of(records([.notEquivalent, .skipped])) == 3)
    #expect(GateExitCode.of(records([.equivalent, .skipped])) == 0)
}

@Test func failFastSkipsWhatIsLeft() throws {
    let root = try temporaryDirectory("gate")
    defer { try? FileManager.default.removeItem(at: root) }
    try Data().write(to: root.appendingPathComponent("a.onnx"))
    for name in ["b.onnx", "c.onnx"] { try Fixtures.write(try Fixtures.convBatchNorm(), to: root.appendingPathComponent(name)) }
    var configuration = GateConfiguration()
    configuration.samples = 1
    let records = Gate(configuration: configuration, jobs: 1, failFast: true, workers: .inProcess()).run(try ModelDiscovery.discover([root.path]))
    #expect(records.map(\.outcome) == [.error, .skipped, .skipped])
    #expect(records[1].error?.code == "fail-fast")
    #expect(GateExitCode.of(records) == 2)
}

/// A worker that dies of a signal, or exits without a record, costs only its own model.
@Test func crashedWorkersBecomeRecords() throws {
    let root = try temporaryDirectory("gate")
    defer { try? FileManager.default.removeItem(at: root) }
    let crash = root.appendingPathComponent("crash.sh")
    try Data("#!/bin/sh\necho 'about to fail' >&2\nkill -SEGV $$\n".utf8).write(to: crash)
    let silent = root.appendingPathComponent("silent.sh")
    try Data("#!/bin/sh\necho 'not json'\nexit 0\n".utf8).write(to: silent)
    for script in [crash, silent] { try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: script.path) }
    let entries = (0..<3).map { ModelEntry(root: root.path, relativePath: "m\($0).onnx", path: root.appendingPathComponent("m\($0).onnx").path) }

    let crashed = Gate(configuration: GateConfiguration(), jobs: 2, workers: .processes(executable: crash, arguments: [])).run(entries)
    #expect(crashed.count == 3)
    for record in crashed {
        #expect(record.outcome == .error)
        #expect(record.error?.code == "worker-crashed")
        #expect(record.error?.message.contains("signal \(SIGSEGV)") == true, "\(record.error?.message ?? "")")
        #expect(record.error?.message.contains("about to fail") == true, "the worker's last words are kept")
    }
    let silentRecords = Gate(configuration: GateConfiguration(), jobs: 1, workers: .processes(executable: silent, arguments: [])).run(entries)
    #expect(silentRecords.map { $0.error?.code } == ["worker-failed", "worker-failed", "worker-failed"])
}
