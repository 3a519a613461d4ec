import GhostIR
import Testing
import TestSupport

// The shared comparisons must fail on every special value they were not told to expect: a NaN
// anywhere (not only first, where `Array.max()` would keep it), an infinity, a wrong sign.

@Test(arguments: [
    [0, .nan, 0], [.nan, 0, 0], [0, 0, .nan], [0, .infinity, 0], [-.infinity, 0, 0], [0, 0, -.nan],
] as [[Double]])
func aNonFiniteActualValueFailsAgainstAFiniteReference(_ actual: [Double]) {
    let expected: [Double] = [0, 0.5, -1]
    #expect(maximumDifference(actual, expected) == .infinity)
    #expect(relativeDifference(actual, expected) == .infinity)
    #expect(!(relativeDifference(actual, expected) <= 1e-5))
    #expect(relativeDifference(actual.map(Float.init), expected.map(Float.init)) == .infinity)
}

@Test func specialValuesAgreeOnlyWithTheSameSpecialValue() {
    // NaN with NaN and an infinity with the same infinity agree, and add nothing to the difference.
    #expect(relativeDifference([.nan, .infinity, -.infinity, 2.5], [.nan, .infinity, -.infinity, 2]) == 0.25)
    // Anything else where the reference is not finite is a disagreement.
    #expect(maximumDifference([1], [.nan]) == .infinity)
    #expect(maximumDifference([.infinity], [.nan]) == .infinity)
    #expect(maximumDifference([.nan], [.infinity]) == .infinity)
    #expect(maximumDifference([-.infinity], [.infinity]) == .infinity)
    #expect(maximumDifference([Double.greatestFiniteMagnitude], [.infinity]) == .infinity)
}

@Test func finiteDifferencesAreRelativeToTheLargestReferenceMagnitude() throws {
    #expect(maximumDifference([1, 2.5, -3], [1, 2, -3]) == 0.5)
    #expect(relativeDifference([1, 2.5, -3], [1, 2, -4]) == 1 / 4.0)
    // An all-zero reference gives the absolute difference.
    #expect(relativeDifference([0, 0.125], [0, 0]) == 0.125)
    #expect(relativeDifference([Double](), [Double]()) == 0)
    // Counts or shapes that differ never agree.
    #expect(relativeDifference([1, 2] as [Double], [1, 2, 3]) == .infinity)
    #expect(relativeDifference([1, 2] as [Float], [1, 2, 3]) == .infinity)
    let row = try Tensor(float32: [1, 2, 3, 4], shape: [1, 4]), column = try Tensor(float32: [1, 2, 3, 4], shape: [4, 1])
    #expect(relativeDifference(row, column) == .infinity)
    #expect(relativeDifference(row, row) == 0)
    let withNaN = try Tensor(float32: [1, .nan, 3, 4], shape: [1, 4])
    #expect(relativeDifference(withNaN, row) == .infinity)
    #expect(relativeDifference(withNaN, withNaN) == 0)
}
