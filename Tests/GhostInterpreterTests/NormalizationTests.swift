import Foundation
import GhostInterpreter
import GhostIR
import Testing
import TestSupport

@Test func batchNormalizationPerChannel() throws {
    // y = γ·(x − μ)/√(σ² + ε) + β per channel of N×C×H×W (N = 2, C = 2, 1×2 planes).
    let x: [Double] = [1, 2, 3, 4, 5, 6, 7, 8]
    let (gamma, beta, mean, variance, epsilon) = ([2.0, -1], [0.5, 1], [1.0, 2], [4.0, 0.25], Double(Float(1e-3)))
    var expected: [Double] = []
    for (index, value) in x.enumerated() {
        let c = (index / 2) % 2
        expected.append(gamma[c] * (value - mean[c]) / (variance[c] + epsilon).squareRoot() + beta[c])
    }
    try expectBothPrecisions(
        "BatchNormalization", inputs: [("x", x, [2, 2, 1, 2])],
        constants: [("g", gamma, [2]), ("b", beta, [2]), ("m", mean, [2]), ("v", variance, [2])],
        attributes: [floatAttribute("epsilon", Float(1e-3))], expected: expected, shape: [2, 2, 1, 2], float32Tolerance: 1e-6)
}

@Test func trainingBatchNormalizationIsRefused() throws {
    let p = try f32([1], [1])
    let error = expectInterpreterError("unsupported-attribute") {
        _ = try runSingle("BatchNormalization", inputs: [("x", try f32([1, 2], [1, 1, 2]))],
                          constants: [("g", p), ("b", p), ("m", p), ("v", p)], attributes: [attribute("training_mode", 1)])
    }
    #expect(error?.localizedDescription.contains("training_mode") == true)
    #expect(error?.localizedDescription.contains("'N'") == true)
}

/// Softmax over `axis` of a C-order array, in Double.
private func referenceSoftmax(_ x: [Double], shape: [Int], axis: Int) -> [Double] {
    let inner = shape[(axis + 1)...].reduce(1, *), size = shape[axis], outer = shape[..<axis].reduce(1, *)
    var out = x
    for o in 0..<outer {
        for i in 0..<inner {
            let indices = (0..<size).map { (o * size + $0) * inner + i }
            let total = indices.map { exp(x[$0]) }.reduce(0, +)
            for index in indices { out[index] = exp(x[index]) / total }
        }
    }
    return out
}

@Test func softmaxOverOneAxisAndTheOldCoercion() throws {
    var random = SeededRandom(seed: 5)
    let x = random.values(24).map { $0 * 4 }
    for axis in [0, 1, 2, -1] {
        try expectBothPrecisions("Softmax", inputs: [("x", x, [2, 3, 4])], attributes: [attribute("axis", Int64(axis))], opset: 13,
                                 expected: referenceSoftmax(x, shape: [2, 3, 4], axis: (axis + 3) % 3), shape: [2, 3, 4], float32Tolerance: 1e-6)
    }
    // Before opset 13, axis 1 flattens to 2×12 and normalizes each row of 12.
    try expectBothPrecisions("Softmax", inputs: [("x", x, [2, 3, 4])], opset: 11,
                             expected: referenceSoftmax(x, shape: [2, 12], axis: 1), shape: [2, 3, 4], float32Tolerance: 1e-6)
    let byHand = try runSingle("Softmax", inputs: [("x", try f32([0, 0, Float(log(3.0))], [1, 3]))])
    #expect(byHand.floats.map { ($0 * 1000).rounded() } == [200, 200, 600])
    expectInterpreterError("invalid-node") { _ = try runSingle("Softmax", inputs: [("x", try f32([1], []))]) }
}

@Test func layerNormalizationOverTrailingAxes() throws {
    var random = SeededRandom(seed: 9)
    let x = random.values(24)
    let scale = random.values(12), bias = random.values(12)
    // Normalize each of the two 3×4 blocks (axis 1), then scale and shift elementwise.
    var expected: [Double] = []
    for block in 0..<2 {
        let values = Array(x[(block * 12)..<((block + 1) * 12)])
        let mean = values.reduce(0, +) / 12
        let variance = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 12
        for (i, v) in values.enumerated() {
            expected.append((v - mean) / (variance + Double(Float(1e-5))).squareRoot() * scale[i] + bias[i])
        }
    }
    try expectBothPrecisions("LayerNormalization", inputs: [("x", x, [2, 3, 4])], constants: [("s", scale, [3, 4]), ("b", bias, [3, 4])],
                             attributes: [attribute("axis", 1)], expected: expected, shape: [2, 3, 4], float32Tolerance: 1e-6)
    expectInterpreterError("invalid-node") {  // bias of the wrong size
        _ = try runSingle("LayerNormalization", inputs: [("x", try f32([1, 2, 3, 4], [2, 2]))],
                          constants: [("s", try f32([1, 1], [2])), ("b", try f32([1, 1, 1], [3]))])
    }
}

@Test(arguments: [Int64(13), 18])
func reduceMeanAxesAsAttributeOrInput(opset: Int64) throws {
    let x = try f32((0..<24).map(Float.init), [2, 3, 4])
    func reduce(_ axes: [Int64]?, keep: Int64 = 1, noop: Bool = false) throws -> Tensor {
        var attributes = [attribute("keepdims", keep)]
        if noop { attributes.append(attribute("noop_with_empty_axes", 1)) }
        guard let axes else { return try runSingle("ReduceMean", inputs: [("x", x)], attributes: attributes, opset: opset) }
        if opset < 18 { return try runSingle("ReduceMean", inputs: [("x", x)], attributes: attributes + [attribute("axes", axes)], opset: opset) }
        return try runSingle("ReduceMean", inputs: [("x", x)], constants: [("a", try i64(axes))], attributes: attributes, opset: opset)
    }
    // Middle axis: mean of x[i][·][k] = 12i + k + 4.
    let middle = try reduce([1])
    #expect(middle.shape == [2, 1, 4])
    #expect(middle.floats == [4, 5, 6, 7, 16, 17, 18, 19])
    // Trailing axes (global pooling): 12i + 5.5.
    let trailing = try reduce([-1, -2], keep: 0)
    #expect(trailing.shape == [2])
    #expect(trailing.floats == [5.5, 17.5])
    let outer = try reduce([0, 2], keep: 0)
    #expect(outer.floats == [7.5, 11.5, 15.5])  // mean over i, k of 12i + 4j + k
    let all = try reduce(nil)
    #expect(all.shape == [1, 1, 1] && all.floats == [11.5])
    if opset >= 18 {
        #expect(try reduce(nil, noop: true).shape == [2, 3, 4])
    }
    expectInterpreterError("invalid-node") { _ = try reduce([3]) }
}
