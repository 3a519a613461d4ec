import Foundation
import Testing
import TestSupport

/// Every malformed file of Tests/Fixtures/malformed-onnx through the real command: exit 2, a
/// message naming the file, nothing on stdout and no output file.
@Test func everyMalformedModelExitsTwo() throws {
    struct Case: Decodable { let file: String; let code: String }
    let directory = repositoryRoot.appendingPathComponent("Tests/Fixtures/malformed-onnx")
    let cases = try JSONDecoder().decode([Case].self, from: Data(contentsOf: directory.appendingPathComponent("manifest.json")))
    let scratch = try temporaryDirectory("cli")
    defer { try? FileManager.default.removeItem(at: scratch) }
    var checked = 0
    for testCase in cases where testCase.code != "ok" {
        let output = scratch.appendingPathComponent("out.gwt").path
        let result = try CLI.run(["fuse", directory.appendingPathComponent(testCase.file).path, output])
        #expect(result.status == 2, "\(testCase.file): exit \(result.status) \(result.stderr)")
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.contains(testCase.file) && result.stderr.contains("[\(testCase.code)]"), "\(testCase.file): \(result.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path).isEmpty, "\(testCase.file) left output behind")
        checked += 1
    }
    #expect(checked >= 80)
}
