import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import GhostGate
import GhostIR
import GhostMutation
import Testing
import TestSupport

/// The SE excitation Conv of torchvision's MobileNetV3-Small feeds HardSigmoid(x/6 + 1/2): its
/// weight × (1 + 1e-4) moves the logits by ~7e-6, under the gate's 1e-5, while the Conv's own
/// output moves by 1e-4. The outputs-only gate misses it; the intermediate check catches it at
/// that Conv, and the correct fusion still passes.
@Test func theSEMutantTheOutputsMissIsCaughtByTheIntermediateCheck() throws {
    let root = repositoryRoot.appendingPathComponent("Models").path
    let entry = ModelEntry(root: root, relativePath: "mobilenetv3_small_tv/model.onnx", path: root + "/mobilenetv3_small_tv/model.onnx")
    let mutant = Mutant.scaleWeight(node: "/features/features.6/block/block.2/fc2/Conv", input: 1, factor: 1 + 1e-4)
    var configuration = MutationConfiguration()
    configuration.kinds = [.scaleWeight]
    configuration.gate.samples = 2

    let outputsOnly = MutationCheck.run(entry, configuration: configuration, mutants: [mutant])
    #expect(outputsOnly.baseline.outcome == .equivalent)
    #expect(outputsOnly.baseline.intermediates == nil)
    #expect(outputsOnly.mutants.map(\.verdict) == [.missed], "\(outputsOnly.mutants.map(MutationReport.line))")

    configuration.gate.intermediates = true
    let checked = MutationCheck.run(entry, configuration: configuration, mutants: [mutant])
    #expect(checked.baseline.outcome == .equivalent, "\(checked.baseline.headline(criterion: ""))")
    let baseline = try #require(checked.baseline.intermediates)
    #expect(baseline.compared > 100 && baseline.failed == 0)
    #expect((baseline.worstRelativeError ?? 1) < 1e-5)
    let result = try #require(checked.mutants.first)
    #expect(result.verdict == .caught, "\(MutationReport.line(result))")
    #expect(result.exitCode == 3)
    #expect(result.worstRelativeError ?? 1 < 1e-5, "the outputs still pass")
    #expect(result.firstDivergence?.node == mutant.node)
    #expect(result.divergencePlace == .mutatedNode)
    #expect((result.firstDivergence?.relativeError ?? 0) > 5e-5)
    #expect((result.intermediates?.failed ?? 0) > 0)
}

private func checkedRecord() -> GateRecord {
    var record = GateRecord(entry: ModelEntry(root: "zoo/", relativePath: "a/model.onnx", path: "zoo/a/model.onnx"), outcome: .equivalent, seconds: 1)
    record.worstRelativeError = 1.2e-6
    record.intermediates = .init(compared: 212, skippedDownstreamOfSelection: 9, failed: 0,
                                 worstValue: "/conv3/Conv_output_0", worstNode: "/conv3/Conv", worstRelativeError: 2.5e-6)
    return record
}

@Test func reportsSayWhatWasComparedAndTheWorstIntermediate() throws {
    let records = [checkedRecord()]
    let data = try JSONReport.data(records)
    #expect(try JSONDecoder().decode([GateRecord].self, from: data) == records)
    let objects = try #require(try JSONSerialization.jsonObject(with: data) as? [[String: Any]])
    let figures = try #require(objects[0]["intermediates"] as? [String: Any])
    #expect(figures["compared"] as? Int == 212)
    #expect(figures["skippedDownstreamOfSelection"] as? Int == 9)
    #expect(figures["worstValue"] as? String == "/conv3/Conv_output_0")
    #expect(figures["worstRelativeError"] as? Double == 2.5e-6)
    #expect(records[0].headline(criterion: "tolerance 1e-05") == "equivalent: worst rel 1.20e-06, intermediates 2.50e-06 (tolerance 1e-05)")

    let settings = GateSettings(tolerance: 1e-5, arithmetic: .f64, samples: 4, intermediates: true)
    let document = try XMLDocument(xmlString: JUnitReport.document(records, settings: settings), options: [])
    let suite = try #require(document.rootElement()?.elements(forName: "testsuite").first)
    let properties = suite.elements(forName: "properties").first?.elements(forName: "property") ?? []
    #expect(properties.first { $0.attribute(forName: "name")?.stringValue == "compared" }?.attribute(forName: "value")?.stringValue
        == "outputs and shared intermediate values")
    let output = suite.elements(forName: "testcase").first?.elements(forName: "system-out").first?.stringValue
    #expect(output == "212 intermediate values compared, worst rel 2.50e-06 at '/conv3/Conv_output_0'; 9 downstream of a selection skipped")

    // Outputs only: no key, no system-out.
    var plain = checkedRecord()
    plain.intermediates = nil
    let plainObjects = try #require(try JSONSerialization.jsonObject(with: try JSONReport.data([plain])) as? [[String: Any]])
    #expect(plainObjects[0]["intermediates"] == nil)
    #expect(!JUnitReport.document([plain], settings: GateSettings(tolerance: 1e-5, arithmetic: .f64, samples: 4)).contains("system-out"))
}
