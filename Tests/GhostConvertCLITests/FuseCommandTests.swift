import Foundation
import GhostGWT
import Testing
import TestSupport

/// The source's SHA-256 is computed on another thread while the passes run; the .gwt must still
/// record exactly the digest coreutils computes.
@Test func fuseRecordsTheSourceDigestAndReportsTimings() throws {
    let directory = try temporaryDirectory("cli")
    defer { try? FileManager.default.removeItem(at: directory) }
    let original = repositoryRoot.appendingPathComponent("Tests/Fixtures/blocks/repghost_module_torchscript/model.onnx").path
    let fused = directory.appendingPathComponent("block.gwt").path
    let result = try CLI.run(["fuse", original, fused, "--timings"])
    #expect(result.status == 0, "\(result.stderr)")

    let model = try GWTReader.read(path: fused)
    let digest = Process()
    digest.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
    digest.arguments = [original]
    let pipe = Pipe()
    digest.standardOutput = pipe
    try digest.run()
    let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    digest.waitUntilExit()
    let expected = try #require(text.split(separator: " ").first.map(String.init))
    #expect(model.metadata.sourceSha256 == expected)

    // --timings: one line per step with milliseconds, and a total that is their sum; under
    // `passes`, more deeply indented, the passes that took time and `(verify)`, which together
    // take no longer than the step.
    var steps: [String: Double] = [:]
    var passParts: [String: Double] = [:]
    for line in result.stderr.split(separator: "\n") {
        let fields = line.split(separator: " ")
        guard fields.count == 3, fields[2] == "ms", let value = Double(fields[1]) else { continue }
        if line.hasPrefix("      ") { passParts[String(fields[0])] = value } else { steps[String(fields[0])] = value }
    }
    #expect(Set(steps.keys) == ["load", "passes", "write", "report", "total"])
    let parts = steps.filter { $0.key != "total" }.values.reduce(0, +)
    #expect(abs(parts - (steps["total"] ?? -1)) < 0.5)
    #expect(steps.values.allSatisfy { $0 >= 0 })
    #expect(passParts["fold-batchnorm-into-conv"] != nil)
    #expect(passParts["(verify)"] != nil)
    #expect(passParts.keys.allSatisfy { $0 == "(verify)" || $0.allSatisfy { $0.isLowercase || $0.isNumber || $0 == "-" } })
    #expect(passParts.values.reduce(0, +) <= (steps["passes"] ?? 0) + 0.5)

    // Without the flag there are no timings.
    let quiet = try CLI.run(["fuse", original, directory.appendingPathComponent("again.gwt").path])
    #expect(quiet.status == 0)
    #expect(!quiet.stderr.contains("timings:"))
}
