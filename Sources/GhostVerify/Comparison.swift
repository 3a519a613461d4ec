import GhostIR

/// How far one output (or intermediate value) of the fused graph is from the original's.
public struct Comparison: Codable, Equatable, Sendable {
    /// max |a − b| / max(max |a|, tiny): the figure `--tolerance` bounds.
    public var relativeError: Double
    public var maxAbsoluteError: Double
    /// a·b / (|a| |b|); 1 for identical directions (and for two zero tensors).
    public var cosineSimilarity: Double
    /// Multi-index of the element with the largest |a − b|.
    public var worstIndex: [Int]
    public var expectedAtWorst: Double
    public var actualAtWorst: Double
    /// Whether every element satisfies |a − b| ≤ atol + rtol·|a| (computed when asked for).
    public var allclose: Bool?
    /// NaN or infinity in either tensor where the other has none at the same place.
    public var nonFiniteMismatch: Bool

    static let tiny = 1e-30

    /// Compares `actual` (fused) with `expected` (original); shapes must match.
    public static func compare(expected: Tensor, actual: Tensor, atol: Double? = nil, rtol: Double? = nil) -> Comparison {
        let a = expected.doubleValues(), b = actual.doubleValues()
        var maxDifference = 0.0, maxMagnitude = 0.0, worst = 0
        var dot = 0.0, normA = 0.0, normB = 0.0
        var close = true, nonFinite = false
        for index in 0..<min(a.count, b.count) {
            let (x, y) = (a[index], b[index])
            if !x.isFinite || !y.isFinite {
                // Equal non-finite values (both NaN, or the same infinity) are agreement.
                let same = (x.isNaN && y.isNaN) || x == y
                if !same {
                    nonFinite = true
                    worst = index
                }
                continue
            }
            let difference = abs(x - y)
            if difference > maxDifference {
                maxDifference = difference
                if !nonFinite { worst = index }
            }
            maxMagnitude = max(maxMagnitude, abs(x))
            dot += x * y
            normA += x * x
            normB += y * y
            if let atol, let rtol, difference > atol + rtol * abs(x) { close = false }
        }
        let cosine = normA == 0 && normB == 0 ? 1 : dot / max((normA * normB).squareRoot(), tiny)
        return Comparison(
            relativeError: nonFinite ? .infinity : maxDifference / max(maxMagnitude, tiny),
            maxAbsoluteError: nonFinite ? .infinity : maxDifference,
            cosineSimilarity: cosine,
            worstIndex: multiIndex(worst, shape: expected.shape),
            expectedAtWorst: a.isEmpty ? 0 : a[worst], actualAtWorst: b.isEmpty ? 0 : b[worst],
            allclose: atol != nil && rtol != nil ? close && !nonFinite : nil,
            nonFiniteMismatch: nonFinite)
    }

    static func multiIndex(_ flat: Int, shape: [Int]) -> [Int] {
        var remainder = flat
        var index = [Int](repeating: 0, count: shape.count)
        for axis in stride(from: shape.count - 1, through: 0, by: -1) where shape[axis] > 0 {
            index[axis] = remainder % shape[axis]
            remainder /= shape[axis]
        }
        return index
    }
}

/// The equivalence criterion.
public enum Tolerance: Codable, Equatable, Sendable {
    /// relativeError ≤ bound (the default, 1e-5).
    case relative(Double)
    /// |a − b| ≤ atol + rtol·|a| for every element (numpy's allclose).
    case allclose(atol: Double, rtol: Double)

    public func accepts(_ comparison: Comparison) -> Bool {
        switch self {
        case .relative(let bound): comparison.relativeError <= bound && !comparison.nonFiniteMismatch
        case .allclose: comparison.allclose == true
        }
    }

    var atol: Double? { if case .allclose(let atol, _) = self { atol } else { nil } }
    var rtol: Double? { if case .allclose(_, let rtol) = self { rtol } else { nil } }
}
