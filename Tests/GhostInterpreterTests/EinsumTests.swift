import GhostInterpreter
import GhostIR
import Testing
import TestSupport

/// One einsum case: the equation given to the node, the same contraction spelled with letters
/// only and an explicit output for the reference, and the operand shapes.
struct EinsumCase: CustomTestStringConvertible, Sendable {
    var equation: String
    var reference: String
    var shapes: [[Int]]
    var testDescription: String { equation }

    init(_ equation: String, _ shapes: [[Int]], reference: String? = nil) {
        self.equation = equation
        self.reference = reference ?? equation
        self.shapes = shapes
    }
}

/// Einsum by its definition: for every assignment of the labels, the product of the operands'
/// elements added into the output element those labels name. Size-1 axes broadcast.
private func referenceEinsum(_ equation: String, _ operands: [[Double]], _ shapes: [[Int]]) -> (values: [Double], shape: [Int]) {
    let sides = equation.split(separator: "-", omittingEmptySubsequences: false)
    let terms = sides[0].split(separator: ",", omittingEmptySubsequences: false).map { Array($0) }
    let output = Array(sides[1].dropFirst())
    var sizes: [Character: Int] = [:]
    for (term, shape) in zip(terms, shapes) {
        for (label, size) in zip(term, shape) { sizes[label] = max(sizes[label] ?? 1, size) }
    }
    let labels = Array(sizes.keys)
    let outShape = output.map { sizes[$0]! }
    var out = [Double](repeating: 0, count: outShape.reduce(1, *))
    var assignment = [Character: Int]()
    func flat(_ term: [Character], _ shape: [Int]) -> Int {
        zip(term, shape).reduce(0) { $0 * $1.1 + ($1.1 == 1 ? 0 : assignment[$1.0]!) }
    }
    func visit(_ index: Int) {
        guard index < labels.count else {
            var product = 1.0
            for (n, (term, shape)) in zip(terms, shapes).enumerated() { product *= operands[n][flat(term, shape)] }
            out[flat(output, outShape)] += product
            return
        }
        for value in 0..<sizes[labels[index]]! {
            assignment[labels[index]] = value
            visit(index + 1)
        }
    }
    visit(0)
    return (out, outShape)
}

private let einsumCases: [EinsumCase] = [
    EinsumCase("ij,jk->ik", [[3, 4], [4, 5]]),
    EinsumCase("bij->bji", [[2, 3, 4]]),
    EinsumCase("ii->i", [[4, 4]]),
    EinsumCase("ii", [[4, 4]], reference: "ii->"),
    EinsumCase("bnid,bnjd->bnij", [[2, 3, 4, 5], [2, 3, 6, 5]]),
    EinsumCase("bhwc,hkc->bhwk", [[2, 3, 4, 5], [3, 6, 5]]),
    EinsumCase("...ij,...jk->...ik", [[2, 3, 4, 5], [2, 3, 5, 2]], reference: "xyij,xyjk->xyik"),
    EinsumCase("...ij,...jk", [[2, 1, 4, 5], [3, 5, 2]], reference: "xyij,yjk->xyik"),
    EinsumCase("ij,jk", [[3, 4], [4, 2]], reference: "ij,jk->ik"),
    EinsumCase("ba", [[3, 4]], reference: "ba->ab"),
    EinsumCase("i,j->ij", [[3], [4]]),
    EinsumCase("ij->", [[3, 4]]),
    EinsumCase("ij,ij->ij", [[3, 4], [3, 4]]),
    EinsumCase("ijk,jil->kl", [[2, 3, 4], [3, 2, 5]]),
    EinsumCase("i,i,i->", [[5], [5], [5]]),
    EinsumCase("iij->ji", [[3, 3, 2]]),
    EinsumCase("bii->bi", [[2, 3, 3]]),
    EinsumCase("ij,jk,kl->il", [[2, 3], [3, 4], [4, 2]]),
    EinsumCase("ij,jk->ik", [[3, 1], [2, 5]]),  // a size-1 letter broadcasts (ONNX Runtime)
    EinsumCase(" i j , j k -> k i ", [[2, 3], [3, 4]], reference: "ij,jk->ki"),
    EinsumCase(",->", [[], []]),
    EinsumCase("bchw,bchw->bc", [[2, 4, 8, 8], [2, 4, 8, 8]]),  // a batch of dot products through BLAS
    EinsumCase("ij,ij->ji", [[30, 40], [30, 40]]),  // 1200 one-element products, as plain loops
]

@Test(arguments: einsumCases)
func einsumMatchesItsDefinition(_ testCase: EinsumCase) throws {
    var random = SeededRandom(seed: UInt64(testCase.equation.utf8.count))
    let operands = testCase.shapes.map { random.values($0.reduce(1, *)) }
    let (expected, shape) = referenceEinsum(testCase.reference.filter { $0 != " " }, operands, testCase.shapes)
    let inputs = operands.enumerated().map { ("x\($0.offset)", $0.element, testCase.shapes[$0.offset]) }
    try expectBothPrecisions("Einsum", inputs: inputs, attributes: [attribute("equation", testCase.equation)], opset: 12,
                             expected: expected, shape: shape)
}

@Test func einsumOnIntegers() throws {
    let out = try runSingle("Einsum", inputs: [("a", try i64([1, 2, 3, 4, 5, 6], [2, 3])), ("b", try i64([1, 0, -1, 2, 3, 1], [3, 2]))],
                            attributes: [attribute("equation", "ij,jk->ik")], opset: 12)
    #expect(out.shape == [2, 2] && out.int64s == [8, 7, 17, 16])
    let trace = try runSingle("Einsum", inputs: [("a", try i64([1, 2, 3, 4], [2, 2]))], attributes: [attribute("equation", "ii")], opset: 12)
    #expect(trace.shape == [] && trace.int64s == [5])
}

@Test func einsumErrorsNameTheEquation() throws {
    let a = try f32([1, 2, 3, 4], [2, 2]), b = try f32([1, 2, 3, 4, 5, 6], [2, 3])
    func einsum(_ equation: String, _ operands: [Tensor]) throws {
        _ = try runSingle("Einsum", inputs: operands.enumerated().map { ("x\($0.offset)", $0.element) },
                          attributes: [attribute("equation", equation)], opset: 12)
    }
    let unparsable = expectInterpreterError("invalid-node") { try einsum("ab,bc->ac,d", [a, a]) }
    #expect(unparsable?.localizedDescription.contains("ab,bc->ac,d") == true)
    let rank = expectInterpreterError("invalid-node") { try einsum("ij,jk->ik", [a, try f32([1, 2], [1, 1, 2])]) }
    #expect(rank?.localizedDescription.contains("rank 3") == true)
    expectInterpreterError("invalid-node") { try einsum("ij,jk->ik", [b, b]) }  // j is 3 and 2
    expectInterpreterError("invalid-node") { try einsum("ij->k", [a]) }  // k names nothing
    expectInterpreterError("invalid-node") { try einsum("ij->ii", [a]) }  // repeated output label
    expectInterpreterError("invalid-node") { try einsum("i..j->ij", [a]) }
    expectInterpreterError("invalid-node") { try einsum("ij->j->i", [a]) }
    expectInterpreterError("invalid-node") { try einsum("i2->i", [a]) }
    expectInterpreterError("invalid-node") { try einsum("ij", [a, a]) }  // one term, two operands
    expectInterpreterError("invalid-node") { try einsum("ii->i", [b]) }  // a diagonal of a non-square
    expectInterpreterError("invalid-node") { try einsum("...ij->ij", [try f32([1, 2, 3, 4, 5, 6, 7, 8], [2, 2, 2])]) }
}
