import Foundation
import Testing
import TestSupport

/// `verify --intermediates` reports the compared values in the text and the JSON; the default
/// (`--outputs-only`) compares the outputs alone.
@Test func verifyIntermediatesFlagReportsTheComparedValues() throws {
    let directory = try temporaryDirectory("verify-intermediates-cli")
    defer { try? FileManager.default.removeItem(at: directory) }
    let model = repositoryRoot.appendingPathComponent("Models/tiny_external/model.onnx").path
    let report = directory.appendingPathComponent("verify.json").path
    let checked = try CLI.run(["verify", model, model, "--intermediates", "--samples", "1", "--report", report, "--quiet"])
    #expect(checked.status == 0, "\(checked.stderr)")
    #expect(checked.stderr.contains("intermediate values compared, worst rel 0.000e+00"))
    let object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: report))) as? [String: Any])
    let intermediates = try #require(object["intermediates"] as? [String: Any])
    #expect((intermediates["compared"] as? Int ?? 0) >= 2)
    #expect(intermediates["summaryLimit"] as? Int == 4096)

    let plain = try CLI.run(["verify", model, model, "--outputs-only", "--samples", "1", "--report", report, "--quiet"])
    #expect(plain.status == 0, "\(plain.stderr)")
    #expect(!plain.stderr.contains("intermediate value"))
    let plainObject = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: report))) as? [String: Any])
    #expect(plainObject["intermediates"] == nil)

    let both = try CLI.run(["verify", model, model, "--intermediates", "--outputs-only"])
    #expect(both.status == 2)
}

/// `gate --intermediates` and `mutate-check --intermediates` share the option group.
@Test func gateAndMutateCheckTakeTheIntermediatesFlag() throws {
    let directory = try temporaryDirectory("gate-intermediates-cli")
    defer { try? FileManager.default.removeItem(at: directory) }
    let models = repositoryRoot.appendingPathComponent("Models/tiny_external").path
    let json = directory.appendingPathComponent("gate.json").path
    let gate = try CLI.run(["gate", models, "--intermediates", "--samples", "1", "--json", json, "--quiet", "--jobs", "1"])
    #expect(gate.status == 0, "\(gate.stderr)")
    #expect(gate.stderr.contains(", intermediates "))
    let records = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as? [[String: Any]])
    #expect((records.first?["intermediates"] as? [String: Any])?["compared"] as? Int ?? 0 >= 2)

    let mutate = try CLI.run(["mutate-check", models, "--intermediates", "--samples", "1", "--kinds", "zero-bias"])
    #expect(mutate.status == 0, "\(mutate.stderr)")
    #expect(mutate.stderr.contains("correct fusion equivalent: worst rel"))
    #expect(mutate.stderr.contains(", intermediates "))
    #expect(mutate.stderr.contains("1 caught (1 named at the mutated node), 0 equivalent, 0 missed"))
}
