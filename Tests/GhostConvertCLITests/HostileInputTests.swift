import Foundation
import Testing

/// Tests/Fixtures/hostile (scripts/corpus/make_hostile.py): valid files with attributes or
/// declared shapes crafted to overflow size arithmetic or exhaust memory. Each is refused with
/// its typed error and exit 2, or (code "ok") runs at once to a tiny output — never a signal.
@Test func hostileModelsGiveTypedErrorsNotSignals() throws {
    struct Case: Decodable { let file: String; let command: String; let code: String }
    let directory = CLI.repositoryRoot.appendingPathComponent("Tests/Fixtures/hostile")
    let cases = try JSONDecoder().decode([Case].self, from: Data(contentsOf: directory.appendingPathComponent("manifest.json")))
    #expect(cases.count >= 14)
    let scratch = try CLI.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: scratch) }
    for testCase in cases {
        let model = directory.appendingPathComponent(testCase.file).path
        let arguments = testCase.command == "verify"
            ? ["verify", model, model]
            : ["run", model, "--random-input", "--output-dir", scratch.appendingPathComponent(testCase.file).path]
        let result = try CLI.run(arguments)
        if testCase.code == "ok" {
            #expect(result.status == 0, "\(testCase.file): exit \(result.status) \(result.stderr)")
        } else {
            #expect(result.status == 2, "\(testCase.file): exit \(result.status) \(result.stderr)")
            #expect(result.stderr.contains("[\(testCase.code)]"), "\(testCase.file): \(result.stderr)")
        }
    }
}

/// --shape with sizes whose product overflows, and --samples far beyond memory, are refused before
/// anything is allocated; --max-memory bounds one sample.
@Test func verifyBoundsRandomInputs() throws {
    let model = CLI.repositoryRoot.appendingPathComponent("Models/repghostnet_025_dynamo/model.onnx").path
    let huge = try CLI.run(["verify", model, model, "--shape", "input=9223372036854775807x4"])
    #expect(huge.status == 2, "\(huge.stderr)")
    #expect(huge.stderr.contains("[input-too-large]") || huge.stderr.contains("[input-shape-mismatch]"), "\(huge.stderr)")
    let budget = CLI.repositoryRoot.appendingPathComponent("Models/repghostnet_025_opset13/model.onnx").path
    let small = try CLI.run(["verify", budget, budget, "--max-memory", "1K"])
    #expect(small.status == 2, "\(small.stderr)")
    #expect(small.stderr.contains("[input-too-large]") && small.stderr.contains("--max-memory"), "\(small.stderr)")
    let bad = try CLI.run(["verify", budget, budget, "--max-memory", "lots"])
    #expect(bad.status == 2)
}
