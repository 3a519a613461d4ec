import GhostIR

/// A bounded record of one floating-point value, enough to compare it with the same value of
/// another graph without keeping either tensor: its shape, max |x| over its finite elements (the
/// relative metric's denominator, over the whole tensor), and its elements at ≤ `limit` fixed
/// positions. Positions are stratified: the tensor is cut into `limit` equal strata and one
/// position is drawn in each with a fixed jitter (SplitMix64, seed 0), so they depend only on the
/// element count — two graphs' values of the same shape are sampled at the same places — and
/// cover the whole tensor (every channel of a feature map, whatever its layout). A tensor of at
/// most `limit` elements is kept whole, so its comparison is exact.
public struct ValueSummary: Codable, Equatable, Sendable {
    public let shape: [Int]
    public let elementCount: Int
    /// max |x| over the finite elements of the whole tensor.
    public let maxMagnitude: Double
    /// Flat indices of the sampled elements, ascending.
    public let positions: [Int]
    public let values: [Double]
}

/// Makes `ValueSummary`s of the values named in `names` (every floating-point value when nil).
public struct ValueSummarizer: Equatable, Sendable {
    /// The most elements a summary keeps: 4096 doubles (32 KiB) per value.
    public static let defaultLimit = 4096
    public let limit: Int
    public let names: Set<String>?

    public init(limit: Int = defaultLimit, names: Set<String>? = nil) {
        self.limit = max(1, limit)
        self.names = names
    }

    public func wants(_ name: String, _ tensor: Tensor) -> Bool {
        guard tensor.elementType == .float32 || tensor.elementType == .float64 else { return false }
        return names?.contains(name) ?? true
    }

    /// The summary of `tensor` (float32 or float64; nil for any other type). Reads the tensor's
    /// bytes in place: one pass for max |x|, then `limit` loads.
    public func summary(of tensor: Tensor) -> ValueSummary? {
        let count = tensor.elementCount
        switch tensor.elementType {
        case .float32: return summary(tensor, count: count) { Double($0.loadUnaligned(fromByteOffset: $1 * 4, as: Float.self)) }
        case .float64: return summary(tensor, count: count) { $0.loadUnaligned(fromByteOffset: $1 * 8, as: Double.self) }
        default: return nil
        }
    }

    private func summary(_ tensor: Tensor, count: Int, load: (UnsafeRawBufferPointer, Int) -> Double) -> ValueSummary {
        let bytes = tensor.storage.bytes
        var magnitude = 0.0
        for index in 0..<count {
            let x = load(bytes, index)
            if x.isFinite { magnitude = max(magnitude, abs(x)) }
        }
        let positions = Self.positions(count: count, limit: limit)
        var values = [Double](repeating: 0, count: positions.count)
        for (slot, position) in positions.enumerated() { values[slot] = load(bytes, position) }
        return ValueSummary(shape: tensor.shape, elementCount: count, maxMagnitude: magnitude, positions: positions, values: values)
    }

    /// One position per stratum of `count / limit` elements (all of them when count ≤ limit).
    static func positions(count: Int, limit: Int) -> [Int] {
        guard count > limit else { return Array(0..<max(count, 0)) }
        let jitter = Self.jitter(limit)
        // Stratum s is [s·count/limit, (s+1)·count/limit): at least one element wide, disjoint
        // from the next, so the positions are distinct and ascending. count·limit ≤ 2³¹·2¹² fits.
        return (0..<limit).map { stratum in
            let start = stratum * count / limit, end = (stratum + 1) * count / limit
            return start + min(end - start - 1, Int(jitter[stratum] * Double(end - start)))
        }
    }

    private static func jitter(_ count: Int) -> [Double] {
        if count == defaultLimit { return defaultJitter }
        return makeJitter(count)
    }

    private static let defaultJitter = makeJitter(defaultLimit)

    private static func makeJitter(_ count: Int) -> [Double] {
        var state: UInt64 = 0
        return (0..<count).map { _ in
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            z ^= z >> 31
            return Double(z >> 11) / Double(1 << 53)  // in [0, 1)
        }
    }
}

extension Comparison {
    /// Compares two summaries of a value of the same shape (`expected` from the original) with the
    /// metric of `compare(expected:actual:)`: the largest difference over the sampled positions
    /// divided by the original's max |x| over the whole tensor. With sampling this is a lower
    /// bound of the full tensor's figure — a failure is always real; a value kept whole is exact.
    public static func compare(expected: ValueSummary, actual: ValueSummary, atol: Double? = nil, rtol: Double? = nil) -> Comparison {
        var maxDifference = 0.0, worst = 0
        var dot = 0.0, normA = 0.0, normB = 0.0
        var close = true, nonFinite = false
        let count = min(expected.values.count, actual.values.count)
        for index in 0..<count {
            let (x, y) = (expected.values[index], actual.values[index])
            if !x.isFinite || !y.isFinite {
                if !((x.isNaN && y.isNaN) || x == y) {
                    if !nonFinite { worst = index }
                    nonFinite = true
                }
                continue
            }
            let difference = abs(x - y)
            if difference > maxDifference {
                maxDifference = difference
                if !nonFinite { worst = index }
            }
            dot += x * y
            normA += x * x
            normB += y * y
            if let atol, let rtol, difference > atol + rtol * abs(x) { close = false }
        }
        let cosine = normA == 0 && normB == 0 ? 1 : dot / max((normA * normB).squareRoot(), tiny)
        let flat = count == 0 ? 0 : expected.positions[worst]
        return Comparison(
            relativeError: nonFinite ? .infinity : maxDifference / max(expected.maxMagnitude, tiny),
            maxAbsoluteError: nonFinite ? .infinity : maxDifference,
            cosineSimilarity: cosine,
            worstIndex: multiIndex(flat, shape: expected.shape),
            expectedAtWorst: count == 0 ? 0 : expected.values[worst], actualAtWorst: count == 0 ? 0 : actual.values[worst],
            allclose: atol != nil && rtol != nil ? close && !nonFinite : nil,
            nonFiniteMismatch: nonFinite)
    }
}
