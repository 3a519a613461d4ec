import Foundation
import GhostInterpreter
import GhostIR
import Testing
import TestSupport

/// (x − mean)/√(variance + ε) over each consecutive block of `size` values, in Double.
private func standardized(_ x: [Double], blockSize size: Int, epsilon: Double) -> [Double] {
    var out: [Double] = []
    for start in stride(from: 0, to: x.count, by: size) {
        let block = x[start..<(start + size)]
        let mean = block.reduce(0, +) / Double(size)
        let variance = block.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(size)
        out += block.map { ($0 - mean) / (variance + epsilon).squareRoot() }
    }
    return out
}

/// Runs a one-node graph in `precision` on float32 inputs and returns the output as Double.
private func outputs(_ op: String, _ x: [Double], _ shape: [Int], constants: [(String, [Double], [Int])] = [],
                     attributes: [Attribute] = [], opset: Int64 = 17, precision: Precision) throws -> [Double] {
    let out = try runSingle(op, inputs: [("x", try f32(x.map { Float($0) }, shape))],
                            constants: try constants.map { ($0.0, try f32($0.1.map { Float($0) }, $0.2)) },
                            attributes: attributes, opset: opset, precision: precision)
    return precision == .float64 ? out.doubles : out.floats.map(Double.init)
}

/// Expects NaN exactly where `expected` has NaN, equal infinities, and finite values within 1e-5.
private func expectSpecials(_ actual: [Double], _ expected: [Double], sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(actual.count == expected.count, sourceLocation: sourceLocation)
    for (index, (a, e)) in zip(actual, expected).enumerated() {
        let same = e.isNaN ? a.isNaN : (e.isInfinite ? a == e : abs(a - e) <= 1e-5 * max(1, abs(e)))
        #expect(same, "element \(index): \(a), expected \(e)", sourceLocation: sourceLocation)
    }
}

// MARK: InstanceNormalization

@Test func instanceNormalizationPerChannel() throws {
    var random = SeededRandom(seed: 31)
    let shape = [2, 3, 4, 5]
    let x = random.values(120).map { $0 * 3 + 1 }, scale = random.values(3), shift = random.values(3)
    let epsilon = Double(Float(1e-3))
    let normalized = standardized(x, blockSize: 20, epsilon: epsilon)
    let expected = normalized.enumerated().map { index, value in value * scale[(index / 20) % 3] + shift[(index / 20) % 3] }
    try expectBothPrecisions("InstanceNormalization", inputs: [("x", x, shape)], constants: [("s", scale, [3]), ("b", shift, [3])],
                             attributes: [floatAttribute("epsilon", 1e-3)], expected: expected, shape: shape, float32Tolerance: 1e-5)
    // 1-D instances (N×C×L) too.
    try expectBothPrecisions("InstanceNormalization", inputs: [("x", x, [4, 3, 10])], constants: [("s", scale, [3]), ("b", shift, [3])],
                             expected: standardized(x, blockSize: 10, epsilon: Double(Float(1e-5))).enumerated().map { index, value in
                                 value * scale[(index / 10) % 3] + shift[(index / 10) % 3]
                             }, shape: [4, 3, 10], float32Tolerance: 1e-5)
}

@Test func instanceNormalizationNaNAndErrors() throws {
    for precision in Precision.allCases {
        // A NaN poisons its own channel only; a constant channel with ε = 0 is 0/0 = NaN; an
        // infinity makes its channel NaN (inf − inf).
        let out = try outputs("InstanceNormalization", [1, .nan, 3, 4, 5, 5, 1, .infinity], [1, 4, 2],
                              constants: [("s", [1, 2, 1, 1], [4]), ("b", [0.5, 0.25, 0, 0], [4])],
                              attributes: [floatAttribute("epsilon", 0)], precision: precision)
        expectSpecials(out, [.nan, .nan, -1.75, 2.25, .nan, .nan, .nan, .nan])
    }
    let x = try f32([1, 2, 3, 4], [1, 2, 2])
    expectInterpreterError("invalid-node") {  // scale of the wrong length
        _ = try runSingle("InstanceNormalization", inputs: [("x", x)], constants: [("s", try f32([1, 1, 1], [3])), ("b", try f32([0, 0], [2]))])
    }
    expectInterpreterError("invalid-node") {  // no spatial axes
        _ = try runSingle("InstanceNormalization", inputs: [("x", try f32([1, 2], [1, 2]))],
                          constants: [("s", try f32([1, 1], [2])), ("b", try f32([0, 0], [2]))])
    }
}

// MARK: GroupNormalization

@Test func groupNormalizationPerChannelAndPerGroup() throws {
    var random = SeededRandom(seed: 41)
    let shape = [2, 6, 3, 2]  // 3 groups of 2 channels, 12 values per group
    let x = random.values(72).map { $0 * 2 - 0.5 }
    let normalized = standardized(x, blockSize: 12, epsilon: Double(Float(1e-5)))
    // Opset 21: scale and bias per channel.
    let scale = random.values(6), bias = random.values(6)
    let perChannel = normalized.enumerated().map { index, value in value * scale[(index / 6) % 6] + bias[(index / 6) % 6] }
    try expectBothPrecisions("GroupNormalization", inputs: [("x", x, shape)], constants: [("s", scale, [6]), ("b", bias, [6])],
                             attributes: [attribute("num_groups", 3)], opset: 21, expected: perChannel, shape: shape, float32Tolerance: 1e-5)
    // Opset 18: per group.
    let groupScale = Array(scale.prefix(3)), groupBias = Array(bias.prefix(3))
    let perGroup = normalized.enumerated().map { index, value in value * groupScale[(index / 12) % 3] + groupBias[(index / 12) % 3] }
    try expectBothPrecisions("GroupNormalization", inputs: [("x", x, shape)], constants: [("s", groupScale, [3]), ("b", groupBias, [3])],
                             attributes: [attribute("num_groups", 3), floatAttribute("epsilon", 1e-5)], opset: 18,
                             expected: perGroup, shape: shape, float32Tolerance: 1e-5)
    // stash_type = double: float64 statistics in a float32 run, still within float32 rounding.
    let epsilon = Double(Float(0.01))
    let wide = standardized(x, blockSize: 12, epsilon: epsilon).enumerated().map { index, value in
        value * scale[(index / 6) % 6] + bias[(index / 6) % 6]
    }
    try expectBothPrecisions("GroupNormalization", inputs: [("x", x, shape)], constants: [("s", scale, [6]), ("b", bias, [6])],
                             attributes: [attribute("num_groups", 3), attribute("stash_type", 11), floatAttribute("epsilon", 0.01)],
                             opset: 21, expected: wide, shape: shape, float32Tolerance: 1e-6)
    // One group is LayerNormalization over C×H×W; rank 2 (no spatial axes) works too.
    try expectBothPrecisions("GroupNormalization", inputs: [("x", x, [12, 6])], constants: [("s", scale, [6]), ("b", bias, [6])],
                             attributes: [attribute("num_groups", 1)], opset: 21,
                             expected: standardized(x, blockSize: 6, epsilon: Double(Float(1e-5))).enumerated().map { index, value in
                                 value * scale[index % 6] + bias[index % 6]
                             }, shape: [12, 6], float32Tolerance: 1e-5)
}

@Test func groupNormalizationNaNAndErrors() throws {
    for precision in Precision.allCases {
        let out = try outputs("GroupNormalization", [1, 3, .nan, 0, 2, 2, 2, 2], [1, 4, 2],
                              constants: [("s", [1, 1], [2]), ("b", [0, 7], [2])], attributes: [attribute("num_groups", 2)],
                              opset: 18, precision: precision)
        // Group 0 has a NaN; group 1 is constant: 0/√ε, then the bias.
        expectSpecials(out, [.nan, .nan, .nan, .nan, 7, 7, 7, 7])
    }
    let x = try f32([Float](repeating: 1, count: 8), [1, 4, 2]), four = try f32([1, 1, 1, 1], [4])
    func run(_ attributes: [Attribute], scale: Tensor? = nil, opset: Int64 = 21) throws {
        _ = try runSingle("GroupNormalization", inputs: [("x", x)], constants: [("s", scale ?? four), ("b", scale ?? four)],
                          attributes: attributes, opset: opset)
    }
    expectInterpreterError("invalid-node") { try run([]) }  // num_groups is required
    expectInterpreterError("invalid-node") { try run([attribute("num_groups", 3)]) }
    expectInterpreterError("invalid-node") { try run([attribute("num_groups", 0)]) }
    expectInterpreterError("invalid-node") { try run([attribute("num_groups", 2)], opset: 18) }  // per group: 2 values
    expectInterpreterError("invalid-node") { try run([attribute("num_groups", 2)], scale: try f32([1, 1], [2])) }  // per channel: 4
    expectInterpreterError("unsupported-attribute") { try run([attribute("num_groups", 2), attribute("stash_type", 10)]) }
    expectInterpreterError("invalid-node") { try run([attribute("num_groups", 2), attribute("stash_type", 7)]) }
}

// MARK: LpNormalization

@Test func lpNormalizationAlongAnAxis() throws {
    var random = SeededRandom(seed: 51)
    let shape = [2, 3, 4]
    let x = random.values(24)
    for p in [1, 2] {
        for axis in [0, 1, 2, -1] {
            let a = (axis + 3) % 3
            let inner = shape[(a + 1)...].reduce(1, *), size = shape[a]
            var expected = x
            for index in x.indices {
                let outer = index / (size * inner), within = index % inner
                let members = (0..<size).map { x[(outer * size + $0) * inner + within] }
                let norm = p == 1 ? members.map(abs).reduce(0, +) : members.map { $0 * $0 }.reduce(0, +).squareRoot()
                expected[index] = x[index] / norm
            }
            var attributes = [attribute("axis", Int64(axis)), attribute("p", Int64(p))]
            if axis == -1, p == 2 { attributes = [] }  // the defaults
            try expectBothPrecisions("LpNormalization", inputs: [("x", x, shape)], attributes: attributes, opset: 22,
                                     expected: expected, shape: shape, float32Tolerance: 1e-6)
        }
    }
}

@Test func lpNormalizationZerosInfinitiesAndErrors() throws {
    for precision in Precision.allCases {
        for p in [1, 2] {
            // A zero norm gives zeros (ONNX Runtime), inf/inf is NaN and x/inf is 0, NaN spreads.
            let out = try outputs("LpNormalization", [0, 0, 0, .infinity, 1, 0, .nan, 1, 2, 3, 0, 4], [4, 3],
                                  attributes: [attribute("p", Int64(p))], precision: precision)
            let last: [Double] = p == 1 ? [3.0 / 7, 0, 4.0 / 7] : [0.6, 0, 0.8]
            expectSpecials(out, [0, 0, 0, .nan, 0, 0, .nan, .nan, .nan] + last)
        }
    }
    let x = try f32([1, 2], [1, 2])
    expectInterpreterError("invalid-node") { _ = try runSingle("LpNormalization", inputs: [("x", x)], attributes: [attribute("p", 3)]) }
    expectInterpreterError("invalid-node") { _ = try runSingle("LpNormalization", inputs: [("x", x)], attributes: [attribute("axis", 2)]) }
    expectInterpreterError("invalid-node") { _ = try runSingle("LpNormalization", inputs: [("x", try f32([1], []))]) }
}

// MARK: LRN

/// The spec's LRN in Double: the square sum over channels c − ⌊(size−1)/2⌋ … c + ⌈(size−1)/2⌉.
private func referenceLRN(_ x: [Double], shape: [Int], size: Int, alpha: Double, beta: Double, bias: Double) -> [Double] {
    let channels = shape[1], plane = shape[2...].reduce(1, *)
    let before = (size - 1) / 2, after = size - 1 - before
    var out = x
    for index in x.indices {
        let c = (index / plane) % channels, base = index - c * plane
        var sum = 0.0
        for k in max(0, c - before)...min(channels - 1, c + after) { sum += x[base + k * plane] * x[base + k * plane] }
        out[index] = x[index] / pow(bias + alpha / Double(size) * sum, beta)
    }
    return out
}

@Test func lrnAcrossChannels() throws {
    var random = SeededRandom(seed: 61)
    let shape = [2, 7, 3, 2]
    let x = random.values(84).map { $0 * 3 }
    for size in 1...6 {  // even sizes too: the spec's window is one channel longer after c
        let (alpha, beta, bias) = (Double(Float(0.3)), Double(Float(0.75)), Double(Float(1.5)))
        try expectBothPrecisions("LRN", inputs: [("x", x, shape)],
                                 attributes: [attribute("size", Int64(size)), floatAttribute("alpha", 0.3), floatAttribute("beta", 0.75),
                                              floatAttribute("bias", 1.5)],
                                 expected: referenceLRN(x, shape: shape, size: size, alpha: alpha, beta: beta, bias: bias),
                                 shape: shape, float32Tolerance: 1e-6)
    }
    // The defaults (α = 1e-4, β = 0.75, bias = 1) on a 3-D input, a window wider than the channels.
    try expectBothPrecisions("LRN", inputs: [("x", x, [4, 3, 7])], attributes: [attribute("size", 9)],
                             expected: referenceLRN(x, shape: [4, 3, 7], size: 9, alpha: Double(Float(1e-4)), beta: 0.75, bias: 1),
                             shape: [4, 3, 7], float32Tolerance: 1e-6)
}

@Test func lrnNaNAndInfinityFollowTheSlidingSum() throws {
    for precision in Precision.allCases {
        // size 3. A NaN enters channel 0's window and stays in the running sum. An infinity makes
        // its neighbours x·inf^(−β) = 0 and itself inf·0 = NaN; once it leaves the window the sum
        // is inf − inf = NaN for every later channel (ONNX Runtime's behaviour).
        let nan = try outputs("LRN", [1, .nan, 3, 4, 5, 6], [1, 6, 1, 1], attributes: [attribute("size", 3)], precision: precision)
        expectSpecials(nan, [Double](repeating: .nan, count: 6))
        let infinite = try outputs("LRN", [1, 2, .infinity, 4, 5, 6], [1, 6, 1, 1], attributes: [attribute("size", 3)], precision: precision)
        let first = 1 / pow(1 + Double(Float(1e-4)) / 3 * 5, 0.75)
        expectSpecials(infinite, [first, 0, .nan, 0, .nan, .nan])
        // A negative base under a fractional power is NaN.
        let negative = try outputs("LRN", [1, 2], [1, 2, 1], attributes: [attribute("size", 1), floatAttribute("bias", -5)],
                                   precision: precision)
        expectSpecials(negative, [.nan, .nan])
    }
    let x = try f32([1, 2, 3, 4], [1, 4, 1])
    expectInterpreterError("invalid-node") { _ = try runSingle("LRN", inputs: [("x", x)]) }  // size is required
    expectInterpreterError("invalid-node") { _ = try runSingle("LRN", inputs: [("x", x)], attributes: [attribute("size", 0)]) }
    expectInterpreterError("invalid-node") {
        _ = try runSingle("LRN", inputs: [("x", try f32([1, 2], [1, 2]))], attributes: [attribute("size", 1)])
    }
}

// MARK: MeanVarianceNormalization

/// (x − E[x])/√E[(x − E[x])²] over the axes in `reduced`, in Double.
private func referenceMVN(_ x: [Double], shape: [Int], reduced: Set<Int>) -> [Double] {
    func key(_ flat: Int) -> [Int] {
        var rest = flat, index: [Int] = []
        for axis in (0..<shape.count).reversed() {
            if !reduced.contains(axis) { index.append(rest % shape[axis]) }
            rest /= shape[axis]
        }
        return index
    }
    var groups: [[Int]: [Int]] = [:]
    for flat in x.indices { groups[key(flat), default: []].append(flat) }
    var out = x
    for members in groups.values {
        let mean = members.map { x[$0] }.reduce(0, +) / Double(members.count)
        let variance = members.map { (x[$0] - mean) * (x[$0] - mean) }.reduce(0, +) / Double(members.count)
        for flat in members { out[flat] = (x[flat] - mean) / variance.squareRoot() }
    }
    return out
}

@Test func meanVarianceNormalizationOverAxes() throws {
    var random = SeededRandom(seed: 71)
    let shape = [2, 3, 4, 2]
    let x = random.values(48).map { $0 * 5 + 2 }
    try expectBothPrecisions("MeanVarianceNormalization", inputs: [("x", x, shape)], opset: 13,
                             expected: referenceMVN(x, shape: shape, reduced: [0, 2, 3]), shape: shape, float32Tolerance: 1e-5)
    for (axes, reduced) in [([1], Set([1])), ([-1], [3]), ([0, 1, 2, 3], [0, 1, 2, 3]), ([2, 0], [0, 2]), ([1, 3, 1], [1, 3])] {
        try expectBothPrecisions("MeanVarianceNormalization", inputs: [("x", x, shape)], attributes: [attribute("axes", axes.map(Int64.init))],
                                 opset: 9, expected: referenceMVN(x, shape: shape, reduced: reduced), shape: shape, float32Tolerance: 1e-5)
    }
    // The default axes on a rank-3 input: axis 3 does not exist and is dropped, as ONNX Runtime does.
    try expectBothPrecisions("MeanVarianceNormalization", inputs: [("x", Array(x.prefix(24)), [2, 3, 4])], opset: 13,
                             expected: referenceMVN(Array(x.prefix(24)), shape: [2, 3, 4], reduced: [0, 2]), shape: [2, 3, 4],
                             float32Tolerance: 1e-5)
}

@Test func meanVarianceNormalizationSpecials() throws {
    for precision in Precision.allCases {
        // No ε: a constant channel is 0/0 = NaN; a NaN or an infinity poisons its channel only.
        let out = try outputs("MeanVarianceNormalization", [3, 3, 3, 3, 1, .nan, 2, 2, .infinity, 1, 0, 2, 1, 3, 0, 2], [1, 4, 2, 2],
                              opset: 13, precision: precision)
        let root = 1.25.squareRoot()  // the last channel: mean 1.5, variance 1.25
        expectSpecials(out, [Double](repeating: .nan, count: 12) + [-0.5 / root, 1.5 / root, -1.5 / root, 0.5 / root])
    }
    expectInterpreterError("invalid-node") {
        _ = try runSingle("MeanVarianceNormalization", inputs: [("x", try i64([1, 2], [1, 2]))], opset: 13)
    }
}
