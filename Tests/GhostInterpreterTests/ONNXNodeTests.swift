import Foundation
import GhostInterpreter
import GhostIR
import GhostONNX
import Testing

/// ONNX's own operator conformance cases (scripts/onnx-node-tests.py writes them; scripts/test.sh
/// sets GHOST_ONNX_NODE_TESTS to their directory). Every case listed PASS in
/// Tests/Fixtures/onnx-node-tests/expected.txt must pass with the suite's own tolerances; the
/// others are listed with the reason they are not expected to.
enum ONNXNodeSuite {
    static let directory = ProcessInfo.processInfo.environment["GHOST_ONNX_NODE_TESTS"]
    static let expectations = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/onnx-node-tests/expected.txt")

    struct Case: Decodable { let name: String; let rtol: Double; let atol: Double }

    /// nil when the case passes, else why not.
    static func run(_ testCase: Case, in root: URL) -> String? {
        let caseDirectory = root.appendingPathComponent(testCase.name)
        do {
            let graph = try ONNXModelLoader.load(path: caseDirectory.appendingPathComponent("model.onnx").path).graph
            let interpreter = try Interpreter(graph: graph, precision: .float32)
            var number = 0
            while FileManager.default.fileExists(atPath: caseDirectory.appendingPathComponent("test_data_set_\(number)").path) {
                let data = caseDirectory.appendingPathComponent("test_data_set_\(number)")
                var feeds: [String: Tensor] = [:]
                for (k, input) in graph.runtimeInputs.enumerated() {
                    feeds[input.name] = try ONNXTensorFile.read(path: data.appendingPathComponent("input_\(k).pb").path).tensor
                }
                let outputs = try interpreter.run(feeds)
                for (k, output) in graph.outputs.enumerated() {
                    let expected = try ONNXTensorFile.read(path: data.appendingPathComponent("output_\(k).pb").path).tensor
                    guard let actual = outputs[output.name] else { return "output \(output.name) missing" }
                    guard actual.shape == expected.shape else { return "output \(output.name) shape \(actual.shape), expected \(expected.shape)" }
                    for (a, b) in zip(actual.doubleValues(), expected.doubleValues()) {
                        let same = a == b || (a.isNaN && b.isNaN) || abs(a - b) <= testCase.atol + testCase.rtol * abs(b)
                        if !same { return "output \(output.name): \(a) vs \(b)" }
                    }
                }
                number += 1
            }
            return nil
        } catch let error as InterpreterError {
            return "\(error.code): \(error.localizedDescription)"
        } catch {
            return "\(error)"
        }
    }
}

@Test(.enabled(if: ONNXNodeSuite.directory != nil, "set GHOST_ONNX_NODE_TESTS (scripts/test.sh does)"))
func onnxNodeConformanceSuite() throws {
    let root = URL(fileURLWithPath: try #require(ONNXNodeSuite.directory))
    let cases = try JSONDecoder().decode([ONNXNodeSuite.Case].self, from: Data(contentsOf: root.appendingPathComponent("index.json")))
    let listed = try String(contentsOf: ONNXNodeSuite.expectations, encoding: .utf8).split(separator: "\n")
    let expectedPasses = Set(listed.filter { $0.hasPrefix("PASS ") }.map { String($0.dropFirst(5)) })
    var passed = 0
    var report: [String] = []
    for testCase in cases {
        if let failure = ONNXNodeSuite.run(testCase, in: root) {
            report.append("SKIP \(testCase.name): \(failure.replacingOccurrences(of: "\n", with: " "))")
            #expect(!expectedPasses.contains(testCase.name), "\(testCase.name) is listed as passing but failed: \(failure)")
        } else {
            passed += 1
            report.append("PASS \(testCase.name)")
        }
    }
    #expect(passed >= expectedPasses.count, "pass count dropped from \(expectedPasses.count) to \(passed)")
    // The current results, for updating the committed list: GHOST_ONNX_NODE_REPORT=path.
    if let path = ProcessInfo.processInfo.environment["GHOST_ONNX_NODE_REPORT"] {
        try (report.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
    }
}
