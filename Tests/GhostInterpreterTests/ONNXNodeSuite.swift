import Foundation
import GhostInterpreter
import GhostIR
import GhostONNX

/// ONNX's own operator test suite, as scripts/onnx-node-tests.py writes it: every case of the
/// onnx wheel, run by the interpreter, each with one of three outcomes. Nothing can pass without
/// being checked: a pass needs at least one data set, every output present with its shape, its
/// element type and every element within the case's tolerances.
enum ONNXNodeSuite {
    static let directory = ProcessInfo.processInfo.environment["GHOST_ONNX_NODE_TESTS"]
    static let expectations = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/onnx-node-tests/expected.txt")

    struct Index: Decodable {
        let onnx_version: String
        let cases: [Case]
    }

    struct Case: Decodable {
        let name: String
        let rtol: Double
        let atol: Double
        let ops: [String]
        /// "tensors", "non-tensor" (sequences, optionals: no data written) or "none".
        let data: String
    }

    enum Outcome: Equatable {
        case pass
        /// A typed error (its stable code and sentence): the interpreter declines the case.
        case refused(code: String, message: String)
        /// The suite has no data to check the case with.
        case noData
        /// A wrong answer, or an untyped failure: always a defect.
        case wrong(String)

        /// The line for expected.txt.
        func line(_ name: String) -> String {
            switch self {
            case .pass: "PASS \(name)"
            case .refused(let code, let message): "REFUSED \(name) \(code): \(message.replacingOccurrences(of: "\n", with: " "))"
            case .noData: "NODATA \(name)"
            case .wrong(let problem): "WRONG \(name) \(problem.replacingOccurrences(of: "\n", with: " "))"
            }
        }
    }

    /// What the committed list expects of a case.
    enum Expectation: Equatable {
        case pass, refused(code: String), noData

        init?(line: Substring) {
            let words = line.split(separator: " ", maxSplits: 2)
            guard words.count >= 2 else { return nil }
            switch words[0] {
            case "PASS": self = .pass
            case "NODATA": self = .noData
            case "REFUSED":
                guard words.count == 3, let code = words[2].split(separator: ":").first else { return nil }
                self = .refused(code: String(code))
            default: return nil
            }
        }

        func admits(_ outcome: Outcome) -> Bool {
            switch (self, outcome) {
            case (.pass, .pass), (.noData, .noData): true
            case (.refused(let code), .refused(let actual, _)): code == actual
            default: false
            }
        }
    }

    static func loadIndex(_ root: URL) throws -> Index {
        try JSONDecoder().decode(Index.self, from: Data(contentsOf: root.appendingPathComponent("index.json")))
    }

    /// The committed list: its onnx version (first line `# onnx X`) and each case's expectation.
    static func loadExpectations() throws -> (version: String?, cases: [String: Expectation]) {
        let lines = try String(contentsOf: expectations, encoding: .utf8).split(separator: "\n")
        var version: String?
        var cases: [String: Expectation] = [:]
        for line in lines {
            if line.hasPrefix("# onnx ") { version = String(line.dropFirst(7)); continue }
            if line.hasPrefix("#") || line.isEmpty { continue }
            let name = String(line.split(separator: " ")[1])
            cases[name] = Expectation(line: line)
        }
        return (version, cases)
    }

    static func run(_ testCase: Case, in root: URL) -> Outcome {
        let caseDirectory = root.appendingPathComponent(testCase.name)
        do {
            let graph = try ONNXModelLoader.load(path: caseDirectory.appendingPathComponent("model.onnx").path).graph
            // float64 data is computed in float64, everything else as a float32 deployment would.
            let usesDouble = (graph.inputs + graph.outputs).contains { $0.elementType == .float64 }
            let precision: Precision = usesDouble ? .float64 : .float32
            let interpreter = try Interpreter(graph: graph, precision: precision)
            switch testCase.data {
            case "none": return .noData
            case "tensors": break
            default: return .wrong("the interpreter accepted a model whose data are \(testCase.data)")
            }
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
                    guard let actual = outputs[output.name] else { return .wrong("output \(output.name) missing") }
                    if let problem = compare(actual, expected, testCase, declared: output.elementType) { return .wrong("output \(output.name): \(problem)") }
                }
                number += 1
            }
            return number == 0 ? .wrong("no test_data_set_0 for a case with tensor data") : .pass
        } catch let error as CodedError {
            return .refused(code: error.code, message: error.localizedDescription)
        } catch {
            return .wrong("untyped error \(error)")
        }
    }

    /// nil when `actual` matches: same shape, same element type (any floating type stands for
    /// a floating one: the interpreter computes floats in the run's precision), and every element
    /// equal, both NaN, or within atol + rtol·|expected| (infinities must be equal). For a
    /// float16/bfloat16 output rtol is at least four units in the last place of that type: the
    /// interpreter computes half-precision graphs in float32 (docs/operators.md), while the
    /// suite's references round every intermediate of the "_expanded" cases to the half type, and
    /// in the attention cases those roundings add up to 2 ulps (a wrong result is off by far more).
    static func compare(_ actual: Tensor, _ expected: Tensor, _ testCase: Case, declared: ElementType? = nil) -> String? {
        guard actual.shape == expected.shape else { return "shape \(actual.shape), expected \(expected.shape)" }
        let sameType = actual.elementType == expected.elementType
            || (actual.elementType.isFloatingPoint && expected.elementType.isFloatingPoint)
        guard sameType else { return "element type \(actual.elementType.onnxName), expected \(expected.elementType.onnxName)" }
        let storedType = declared ?? expected.elementType
        let halfUnit: Double = switch storedType {
        case .bfloat16: 0x1p-6
        case .float16: 0x1p-9
        default: 0
        }
        let rtol = max(testCase.rtol, halfUnit)
        for (index, (computed, b)) in zip(actual.doubleValues(), expected.doubleValues()).enumerated() {
            // A half-precision output (widened when loaded) is stored in its declared type:
            // compare the value it rounds to.
            let a = storedValue(computed, as: storedType)
            if a == b || (a.isNaN && b.isNaN) { continue }
            guard a.isFinite, b.isFinite, abs(a - b) <= testCase.atol + rtol * abs(b) else {
                return "element \(index) is \(a), expected \(b)"
            }
        }
        return nil
    }

    /// `value` rounded (ties to even) to float16 or bfloat16 when `type` is one; else `value`.
    static func storedValue(_ value: Double, as type: ElementType) -> Double {
        switch type {
        case .float16:
            #if arch(x86_64) || arch(arm64)
            return Double(Float16(Float(value)))
            #else
            return value
            #endif
        case .bfloat16:
            let single = Float(value)
            guard single.isFinite else { return Double(single) }
            let bits = single.bitPattern
            return Double(Float(bitPattern: (bits &+ 0x7FFF &+ ((bits >> 16) & 1)) & 0xFFFF_0000))
        default: return value
        }
    }
}
