import GhostInterpreter
import GhostIR
import Testing
import TestSupport

// Transpose's odometer copy (TransposeKernel) against a plain loop over every output index, on
// every permutation of ranks 1–4 and some of rank 5, odd sizes, integer and floating-point values.

/// output[i] = input[Σ i_a·stride(perm[a])], computed index by index.
private func referenceTranspose(_ x: [Int64], _ shape: [Int], _ perm: [Int]) -> [Int64] {
    var strides = [Int](repeating: 1, count: shape.count)
    for axis in stride(from: shape.count - 2, through: 0, by: -1) { strides[axis] = strides[axis + 1] * shape[axis + 1] }
    let outShape = perm.map { shape[$0] }
    let count = outShape.reduce(1, *)
    var result = [Int64](repeating: 0, count: count)
    for flat in 0..<count {
        var remainder = flat, source = 0
        for axis in stride(from: outShape.count - 1, through: 0, by: -1) {
            source += (remainder % outShape[axis]) * strides[perm[axis]]
            remainder /= outShape[axis]
        }
        result[flat] = x[source]
    }
    return result
}

private func permutations(_ n: Int) -> [[Int]] {
    if n == 0 { return [[]] }
    return permutations(n - 1).flatMap { p in (0...p.count).map { i in var q = p; q.insert(n - 1, at: i); return q } }
}

@Test func transposeMatchesTheIndexByIndexLoopOnEveryPermutation() throws {
    let shapes: [[Int]] = [[7], [3, 5], [2, 3, 5], [1, 4, 3, 2], [3, 1, 5, 2], [2, 3, 1, 4, 3]]
    for shape in shapes {
        let count = shape.reduce(1, *)
        let x = (0..<count).map { Int64($0 * 7 + 3) }
        let perms = shape.count == 5 ? [[0, 1, 2, 3, 4], [2, 0, 3, 1, 4], [4, 3, 2, 1, 0], [0, 2, 1, 4, 3]] : permutations(shape.count)
        for perm in perms {
            let expected = referenceTranspose(x, shape, perm)
            let out = try runSingle("Transpose", inputs: [("x", try i64(x, shape))], attributes: [attribute("perm", perm.map(Int64.init))])
            #expect(out.shape == perm.map { shape[$0] }, "\(shape) \(perm)")
            #expect(out.int64s == expected, "\(shape) \(perm)")
            for precision in Precision.allCases {
                let floats = try runSingle("Transpose", inputs: [("x", try f32(x.map { Float($0) }, shape))],
                                           attributes: [attribute("perm", perm.map(Int64.init))], precision: precision)
                #expect(floats.doubleValues() == expected.map { Double($0) }, "\(shape) \(perm) \(precision)")
            }
        }
    }
}

@Test func transposeOfScalarsEmptyTensorsAndNaN() throws {
    let scalar = try runSingle("Transpose", inputs: [("x", try f32([2.5], []))])
    #expect(scalar.shape == [] && scalar.floats == [2.5])
    let empty = try runSingle("Transpose", inputs: [("x", try f32([], [3, 0, 2]))], attributes: [attribute("perm", [2, 0, 1])])
    #expect(empty.shape == [2, 3, 0] && empty.floats.isEmpty)
    // The default perm reverses the axes; a NaN moves like any other value.
    let nan = try runSingle("Transpose", inputs: [("x", try f32([1, .nan, 3, -.infinity, 5, 6], [2, 3]))])
    #expect(nan.shape == [3, 2])
    let v = nan.floats
    #expect(v[0] == 1 && v[1] == -.infinity && v[2].isNaN && v[3] == 5 && v[4] == 3 && v[5] == 6)
    expectInterpreterError("invalid-node") {
        _ = try runSingle("Transpose", inputs: [("x", try f32([1, 2], [1, 2]))], attributes: [attribute("perm", [0, 0])])
    }
}
