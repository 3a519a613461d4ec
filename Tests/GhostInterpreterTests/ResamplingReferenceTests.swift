import Foundation
import GhostNumPy
import GhostInterpreter
import GhostIR
import Testing
import TestSupport

// MARK: - ONNX Runtime references

/// Cases ONNX Runtime 1.32 computed (Samples/checks/resampling_references.py wrote them, with its
/// versions and seed, into Tests/Fixtures/resampling/cases.json): the interpreter must give
/// the same numbers in float32 (nearest exactly) and in float64 within float32's rounding.
@Test func resamplingMatchesONNXRuntimeReferences() throws {
    let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/resampling")
    let json = try JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent("cases.json")))
    let cases = try #require((json as? [String: Any])?["cases"] as? [[String: Any]])
    #expect(cases.count >= 10)
    for entry in cases {
        let name = try #require(entry["name"] as? String), op = try #require(entry["op"] as? String)
        let opset = Int64(try #require(entry["opset"] as? Int))
        var attributes: [Attribute] = []
        for (key, value) in try #require(entry["attributes"] as? [String: Any]).sorted(by: { $0.key < $1.key }) {
            if let text = value as? String {
                attributes.append(attribute(key, text))
            } else if key == "extrapolation_value" || key == "cubic_coeff_a" {
                attributes.append(floatAttribute(key, Float(try #require(value as? Double))))
            } else {
                attributes.append(attribute(key, Int64(try #require(value as? Int))))
            }
        }
        let constantsEntry = try #require(entry["constants"] as? [String: Any])
        var constants: [(String, Tensor)] = []
        var names = ["x"]
        if op == "Resize" {
            for key in opset == 10 ? ["scales"] : ["roi", "scales", "sizes"] {
                guard let values = constantsEntry[key] as? [Any] else { names.append(""); continue }
                if key == "sizes" {
                    constants.append((key, try i64(values.map { Int64($0 as? Int ?? -1) })))
                } else {
                    let floats = values.map { Float(($0 as? Double) ?? Double($0 as? Int ?? 0)) }
                    constants.append((key, try f32(floats, [floats.count])))
                }
                names.append(key)
            }
            while names.last == "" { names.removeLast() }
        } else {
            names.append("grid")
        }
        let x = try NumPyFile.read(path: directory.appendingPathComponent("\(name).x.npy").path)
        let expected = try NumPyFile.read(path: directory.appendingPathComponent("\(name).y.npy").path)
        var inputs = [("x", x)]
        if op == "GridSample" { inputs.append(("grid", try NumPyFile.read(path: directory.appendingPathComponent("\(name).grid.npy").path))) }
        let exact = (entry["attributes"] as? [String: Any])?["mode"] as? String == "nearest"
        for precision in Precision.allCases {
            let out = try runSingle(op, inputs: inputs, constants: constants, attributes: attributes, nodeInputs: names,
                                    opset: opset, precision: precision)
            #expect(out.shape == expected.shape, "\(name) \(precision)")
            let actual = precision == .float64 ? out.doubles : out.floats.map(Double.init)
            let reference = expected.floats.map(Double.init)
            let worst = maximumDifference(actual, reference)
            #expect(worst <= (exact ? 0 : 1e-5), "\(name) \(precision): worst difference \(worst)")
        }
    }
}
