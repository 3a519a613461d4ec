import GhostIR

// Comparisons every test target uses. `Array.max()` and `Swift.max` drop a NaN unless it comes
// first (`[0, .nan, 0].max() == 0`), and every comparison with NaN is false, so a difference
// computed as max |a − e| passes a NaN silently. These helpers settle the non-finite elements
// first: where the reference is finite, the actual value must be finite; where it is not, the
// actual value must be the same special value (NaN agrees with NaN, +inf with +inf), and such
// elements then contribute nothing. Any disagreement makes the result +infinity, which fails
// every tolerance.

/// Whether `actual` is the same special value as the non-finite `expected` (NaN with NaN, or the
/// same infinity); a finite `actual` never is.
@inline(__always)
private func sameSpecialValue(_ actual: Double, _ expected: Double) -> Bool {
    expected.isNaN ? actual.isNaN : actual == expected
}

/// max |actual − expected| over the elements, +infinity when the counts differ or a non-finite
/// value of either side is not matched by the same special value on the other.
public func maximumDifference(_ actual: [Double], _ expected: [Double]) -> Double {
    guard actual.count == expected.count else { return .infinity }
    var worst = 0.0
    for (a, e) in zip(actual, expected) {
        if !e.isFinite || !a.isFinite {
            if !sameSpecialValue(a, e) { return .infinity }
            continue
        }
        let difference = abs(a - e)
        if difference > worst { worst = difference }
    }
    return worst
}

/// max |actual − expected| / max |expected| (over the finite elements of `expected`; absolute when
/// they are all zero), with the special values settled as `maximumDifference` does: +infinity on
/// any disagreement.
public func relativeDifference(_ actual: [Double], _ expected: [Double]) -> Double {
    let worst = maximumDifference(actual, expected)
    guard worst.isFinite else { return worst }
    var scale = 0.0
    for e in expected where e.isFinite && abs(e) > scale { scale = abs(e) }
    return scale == 0 ? worst : worst / scale
}

public func relativeDifference(_ actual: [Float], _ expected: [Float]) -> Double {
    relativeDifference(actual.map(Double.init), expected.map(Double.init))
}

/// `relativeDifference` of two tensors' values read as Double; +infinity when the shapes differ.
public func relativeDifference(_ actual: Tensor, _ expected: Tensor) -> Double {
    guard actual.shape == expected.shape else { return .infinity }
    return relativeDifference(actual.doubleValues(), expected.doubleValues())
}
