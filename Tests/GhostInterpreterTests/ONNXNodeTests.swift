import Foundation
import GhostInterpreter
import Testing

/// Every case of ONNX's node test suite against the committed result list
/// (Tests/Fixtures/onnx-node-tests/expected.txt): each listed PASS must pass, each REFUSED must be
/// refused with the listed error code, no case may answer wrongly, and the list names exactly the
/// suite's cases. In CI the cases must be there (scripts/test.sh writes them); elsewhere the test
/// runs when GHOST_ONNX_NODE_TESTS names them. GHOST_ONNX_NODE_REPORT=path writes the current
/// results in the list's format; GHOST_ONNX_NODE_ONLY=Op1,Op2 runs only cases using those ops
/// (and skips the completeness checks).
@Test(.enabled(if: ONNXNodeSuite.directory != nil || ProcessInfo.processInfo.environment["CI"] != nil,
               "set GHOST_ONNX_NODE_TESTS (scripts/test.sh does)"))
func onnxNodeConformanceSuite() throws {
    let environment = ProcessInfo.processInfo.environment
    let root = URL(fileURLWithPath: try #require(ONNXNodeSuite.directory, "CI is set but GHOST_ONNX_NODE_TESTS is not"))
    let index = try ONNXNodeSuite.loadIndex(root)
    let (version, expectations) = try ONNXNodeSuite.loadExpectations()
    #expect(index.onnx_version == version, "the cases come from onnx \(index.onnx_version), the list from onnx \(version ?? "?")")
    let only = environment["GHOST_ONNX_NODE_ONLY"].map { Set($0.split(separator: ",").map(String.init)) }
    let cases = index.cases.filter { only == nil || !Set($0.ops).isDisjoint(with: only!) }
    if only == nil {
        let names = Set(index.cases.map(\.name))
        let unlisted = names.subtracting(expectations.keys).sorted()
        let missing = Set(expectations.keys).subtracting(names).sorted()
        #expect(unlisted.isEmpty, "cases not in expected.txt: \(unlisted.prefix(20))")
        #expect(missing.isEmpty, "listed cases the suite does not have: \(missing.prefix(20))")
    }
    var report = ["# onnx \(index.onnx_version)",
                  "# PASS: checked and equal; REFUSED: a typed error, code and sentence; NODATA: nothing to check"]
    var counts: [String: Int] = [:]
    for testCase in cases {
        let outcome = ONNXNodeSuite.run(testCase, in: root)
        let line = outcome.line(testCase.name)
        report.append(line)
        counts[String(line.prefix { $0 != " " }), default: 0] += 1
        if case .wrong(let problem) = outcome {
            Issue.record("\(testCase.name) answered wrongly: \(problem)")
        } else if let expected = expectations[testCase.name], !expected.admits(outcome) {
            Issue.record("\(testCase.name): expected \(expected), got \(line) (update expected.txt with GHOST_ONNX_NODE_REPORT)")
        }
    }
    let ran = Set(cases.map(\.name))
    let listedPasses = expectations.filter { $0.value == .pass && ran.contains($0.key) }.count
    #expect((counts["PASS"] ?? 0) >= listedPasses, "pass count dropped from \(listedPasses) to \(counts["PASS"] ?? 0)")
    print("ONNX node tests: \(cases.count) cases, " + counts.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", "))
    if let path = environment["GHOST_ONNX_NODE_REPORT"] {
        try (report.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
    }
}
