import GhostInterpreter
import GhostIR
import Testing
import TestSupport

/// Builds a graph of one node whose `inputs` are graph inputs (declared with their tensors'
/// types and shapes) and whose `constants` are initializers, runs it, and returns the outputs
/// in order.
func runNode(
    _ op: String, inputs: [(String, Tensor)] = [], constants: [(String, Tensor)] = [],
    attributes: [Attribute] = [], nodeInputs: [String]? = nil, outputs: Int = 1, opset: Int64 = 17,
    precision: Precision = .float32
) throws -> [Tensor] {
    var initializers = InitializerTable()
    for (name, tensor) in constants { initializers[name] = tensor }
    let outputNames = (0..<outputs).map { "out\($0)" }
    let graph = Graph(
        inputs: inputs.map { Value(name: $0.0, elementType: $0.1.elementType, shape: $0.1.shape.map(ShapeDimension.fixed)) },
        outputs: outputNames.map { Value(name: $0) }, initializers: initializers,
        nodes: [Node(name: "N", opType: op, inputs: nodeInputs ?? (inputs.map(\.0) + constants.map(\.0)),
                     outputs: outputNames, attributes: attributes)],
        opsetImports: [OpsetImport(domain: "", version: opset)])
    var feeds: [String: Tensor] = [:]
    for (name, tensor) in inputs { feeds[name] = tensor }
    let result = try Interpreter(graph: graph, precision: precision).run(feeds)
    return try outputNames.map { try #require(result[$0]) }
}

/// The one output of a one-node graph.
func runSingle(
    _ op: String, inputs: [(String, Tensor)] = [], constants: [(String, Tensor)] = [],
    attributes: [Attribute] = [], nodeInputs: [String]? = nil, opset: Int64 = 17, precision: Precision = .float32
) throws -> Tensor {
    try runNode(op, inputs: inputs, constants: constants, attributes: attributes, nodeInputs: nodeInputs,
                opset: opset, precision: precision)[0]
}

func f32(_ values: [Float], _ shape: [Int]) throws -> Tensor { try Tensor(float32: values, shape: shape) }
func f64(_ values: [Double], _ shape: [Int]) throws -> Tensor { try Tensor(float64: values, shape: shape) }
func i64(_ values: [Int64], _ shape: [Int]) throws -> Tensor { try Tensor(int64: values, shape: shape) }
func i64(_ values: [Int64]) throws -> Tensor { try Tensor(int64: values, shape: [values.count]) }

func attribute(_ name: String, _ value: Int64) -> Attribute { Attribute(name: name, value: .int(value)) }
func attribute(_ name: String, _ values: [Int64]) -> Attribute { Attribute(name: name, value: .ints(values)) }
func floatAttribute(_ name: String, _ value: Float) -> Attribute { Attribute(name: name, value: .float(value)) }
func attribute(_ name: String, _ text: String) -> Attribute { Attribute(name: name, value: .string(Array(text.utf8))) }

extension Tensor {
    var floats: [Float] { elements(as: Float.self) }
    var doubles: [Double] { elements(as: Double.self) }
    var int64s: [Int64] { elements(as: Int64.self) }
}

/// Runs `op` in both precisions on float inputs given as Double and checks both results
/// against `expected` (computed by the test in Double): float64 within 1e-12, float32 within
/// `float32Tolerance`, relative to the largest expected magnitude.
func expectBothPrecisions(
    _ op: String, inputs: [(String, [Double], [Int])], constants: [(String, [Double], [Int])] = [],
    attributes: [Attribute] = [], opset: Int64 = 17, expected: [Double], shape: [Int],
    float32Tolerance: Double = 1e-5, sourceLocation: SourceLocation = #_sourceLocation
) throws {
    for precision in Precision.allCases {
        let feeds = try inputs.map { ($0.0, try f32($0.1.map { Float($0) }, $0.2)) }
        let weights = try constants.map { ($0.0, try f32($0.1.map { Float($0) }, $0.2)) }
        let out = try runSingle(op, inputs: feeds, constants: weights, attributes: attributes, opset: opset, precision: precision)
        #expect(out.shape == shape, "\(op) \(precision): shape", sourceLocation: sourceLocation)
        let actual = precision == .float64 ? out.doubles : out.floats.map(Double.init)
        let tolerance = precision == .float64 ? 1e-12 : float32Tolerance
        let difference = relativeDifference(actual, expected)
        #expect(difference <= tolerance, "\(op) \(precision): relative difference \(difference)", sourceLocation: sourceLocation)
    }
}

/// Expects `body` to throw an `InterpreterError` with the given code, and returns it.
@discardableResult
func expectInterpreterError(
    _ code: String, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void
) -> InterpreterError? {
    do {
        try body()
        Issue.record("expected an InterpreterError \(code), nothing was thrown", sourceLocation: sourceLocation)
    } catch let error as InterpreterError {
        #expect(error.code == code, "\(error.localizedDescription)", sourceLocation: sourceLocation)
        return error
    } catch {
        Issue.record("expected an InterpreterError \(code), got \(error)", sourceLocation: sourceLocation)
    }
    return nil
}

/// numpy broadcasting written out with explicit index arithmetic: the broadcast shape and, for
/// each of its elements in C order, the flat indices into a and b.
func broadcastIndexPairs(_ aShape: [Int], _ bShape: [Int]) -> (shape: [Int], pairs: [(Int, Int)]) {
    let rank = max(aShape.count, bShape.count)
    let ap = [Int](repeating: 1, count: rank - aShape.count) + aShape, bp = [Int](repeating: 1, count: rank - bShape.count) + bShape
    let shape = zip(ap, bp).map { max($0, $1) }
    var pairs: [(Int, Int)] = []
    for flat in 0..<shape.reduce(1, *) {
        var remainder = flat, ai = 0, bi = 0, aStride = 1, bStride = 1
        for axis in (0..<rank).reversed() {
            let index = remainder % shape[axis]
            remainder /= shape[axis]
            ai += (ap[axis] == 1 ? 0 : index) * aStride
            bi += (bp[axis] == 1 ? 0 : index) * bStride
            aStride *= ap[axis]
            bStride *= bp[axis]
        }
        pairs.append((ai, bi))
    }
    return (shape, pairs)
}
