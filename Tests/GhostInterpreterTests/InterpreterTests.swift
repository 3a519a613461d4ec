import GhostInterpreter
import GhostIR
import Testing

/// x: float[N, 2, 2, 2] → Relu → Shape → Gather(0) → Unsqueeze → Concat with [−1] → Reshape(relu)
/// → float[N, 8], then Mul by 2. The integer chain is what exporters emit for `flatten(1)`; the
/// nodes are listed out of order on purpose.
private func flattenGraph() -> Graph {
    var initializers = InitializerTable()
    initializers["zero"] = try? Tensor(int64: [0], shape: [])
    initializers["axes"] = try? Tensor(int64: [0], shape: [1])
    initializers["minusOne"] = try? Tensor(int64: [-1], shape: [1])
    initializers["two"] = try? Tensor(float32: [2], shape: [])
    return Graph(
        inputs: [Value(name: "x", elementType: .float32, shape: [.symbolic("N"), .fixed(2), .fixed(2), .fixed(2)])],
        outputs: [Value(name: "y", elementType: .float32)], initializers: initializers,
        nodes: [
            Node(name: "scale", opType: "Mul", inputs: ["flat", "two"], outputs: ["y"]),
            Node(name: "flatten", opType: "Reshape", inputs: ["r", "target"], outputs: ["flat"]),
            Node(name: "relu", opType: "Relu", inputs: ["x"], outputs: ["r"]),
            Node(name: "shape", opType: "Shape", inputs: ["r"], outputs: ["s"]),
            Node(name: "batch", opType: "Gather", inputs: ["s", "zero"], outputs: ["n"], attributes: [Attribute(name: "axis", value: .int(0))]),
            Node(name: "batch1", opType: "Unsqueeze", inputs: ["n", "axes"], outputs: ["n1"]),
            Node(name: "target", opType: "Concat", inputs: ["n1", "minusOne"], outputs: ["target"], attributes: [Attribute(name: "axis", value: .int(0))]),
        ],
        opsetImports: [OpsetImport(domain: "", version: 13)])
}

@Test(arguments: Precision.allCases)
func integerShapeChainsRunInBothPrecisions(precision: Precision) throws {
    let interpreter = try Interpreter(graph: flattenGraph(), precision: precision)
    let x = (0..<16).map { Float($0 % 2 == 0 ? $0 : -$0) }
    let outputs = try interpreter.run(["x": try f32(x, [2, 2, 2, 2])])
    let y = try #require(outputs["y"])
    #expect(outputs.count == 1)
    #expect(y.shape == [2, 8])
    #expect(y.elementType == (precision == .float64 ? .float64 : .float32))
    #expect(y.doubleValues() == x.map { Double(max($0, 0) * 2) })
}

@Test func intermediatesAreAllKept() throws {
    let outputs = try Interpreter(graph: flattenGraph()).run(["x": try f32([Float](repeating: -1, count: 8), [1, 2, 2, 2])], keepingIntermediates: true)
    #expect(Set(outputs.keys) == ["x", "r", "s", "n", "n1", "target", "flat", "y"])
    #expect(outputs["s"]?.int64s == [1, 2, 2, 2])
    #expect(outputs["target"]?.int64s == [1, -1])
    #expect(outputs["n"]?.shape == [])
    #expect(outputs["r"]?.floats == [Float](repeating: 0, count: 8))
}

@Test func inputsAreCheckedAgainstTheGraph() throws {
    let graph = Graph(inputs: [Value(name: "x", elementType: .float32, shape: [.symbolic("N"), .fixed(3)]),
                               Value(name: "z", elementType: .float32, shape: [.symbolic("N")])],
                      outputs: [Value(name: "y")], nodes: [Node(name: "R", opType: "Relu", inputs: ["x"], outputs: ["y"])])
    let interpreter = try Interpreter(graph: graph)
    let z2 = try f32([0, 0], [2])
    #expect(throws: InterpreterError.missingInput(name: "x")) { try interpreter.run(["z": z2]) }
    #expect(throws: InterpreterError.inputShapeMismatch(name: "x", expected: "float[N,3]", actual: [2, 4])) {
        try interpreter.run(["x": try f32([Float](repeating: 0, count: 8), [2, 4]), "z": z2])
    }
    // N is bound by x to 2, so z of length 3 disagrees.
    #expect(throws: InterpreterError.inputShapeMismatch(name: "z", expected: "float[N]", actual: [3])) {
        try interpreter.run(["x": try f32([Float](repeating: 0, count: 6), [2, 3]), "z": try f32([0, 0, 0], [3])])
    }
    #expect(throws: InterpreterError.inputTypeMismatch(name: "x", expected: "float", actual: "int64")) {
        try interpreter.run(["x": try i64([1, 2, 3], [1, 3]), "z": try f32([0], [1])])
    }
    expectInterpreterError("unknown-input") { _ = try interpreter.run(["x": try f32([1, 2, 3], [1, 3]), "z": try f32([0], [1]), "w": z2]) }
    let ok = try interpreter.run(["x": try f32([-1, 2, -3, 4, -5, 6], [2, 3]), "z": z2])
    #expect(ok["y"]?.floats == [0, 2, 0, 4, 0, 6])
    // A float64 array feeds a float input (a float64 run is fed float64 data).
    let widened = try interpreter.run(["x": try f64([-1, 2, 3], [1, 3]), "z": try f32([0], [1])])
    #expect(widened["y"]?.floats == [0, 2, 3])
}

@Test func unsupportedOperatorsAreFoundBeforeRunning() {
    let graph = Graph(inputs: [Value(name: "x")], outputs: [Value(name: "y")],
                      nodes: [Node(name: "", opType: "Relu", inputs: ["x"], outputs: ["r"]),
                              Node(name: "", opType: "NonMaxSuppression", inputs: ["r"], outputs: ["y"])])
    #expect(throws: InterpreterError.unsupportedOperator(node: "NonMaxSuppression #1", op: "NonMaxSuppression", domain: "")) {
        _ = try Interpreter(graph: graph)
    }
    let custom = Graph(inputs: [Value(name: "x")], outputs: [Value(name: "y")],
                       nodes: [Node(name: "fused", opType: "Relu", domain: "com.example", inputs: ["x"], outputs: ["y"])])
    #expect(throws: InterpreterError.unsupportedOperator(node: "fused", op: "Relu", domain: "com.example")) {
        _ = try Interpreter(graph: custom)
    }
    let cycle = Graph(inputs: [Value(name: "x")], outputs: [Value(name: "a")],
                      nodes: [Node(name: "A", opType: "Add", inputs: ["x", "b"], outputs: ["a"]),
                              Node(name: "B", opType: "Relu", inputs: ["a"], outputs: ["b"])])
    expectInterpreterError("invalid-graph") { _ = try Interpreter(graph: cycle) }
}

@Test func unsupportedAttributeValuesNameTheAttribute() throws {
    let error = expectInterpreterError("unsupported-attribute") {
        _ = try runSingle("Gelu", inputs: [("x", try f32([1], [1]))], attributes: [attribute("approximate", "cubic")], opset: 20)
    }
    #expect(error == .unsupportedAttribute(node: "N", op: "Gelu", attribute: "approximate", value: "cubic"))
}

@Test func extraOutputsAreRefusedNotLeftUndefined() throws {
    expectInterpreterError("invalid-node") { _ = try runNode("Relu", inputs: [("x", try f32([1], [1]))], outputs: 2) }
}

@Test func dropoutInInferenceIsTheIdentityWithATrueMask() throws {
    let x = try f32([1, -2, 3], [3])
    let outputs = try runNode("Dropout", inputs: [("x", x)], constants: [("ratio", try f32([0.5], []))], outputs: 2, opset: 13)
    #expect(outputs[0].floats == [1, -2, 3])
    #expect(outputs[1].elementType == .bool && outputs[1].elements(as: UInt8.self) == [1, 1, 1])
    let training = try Tensor(elementType: .bool, shape: [], storage: TensorStorage(values: [UInt8(1)]))
    expectInterpreterError("unsupported-attribute") {
        _ = try runSingle("Dropout", inputs: [("x", x)], constants: [("ratio", try f32([0.5], [])), ("mode", training)], opset: 13)
    }
}

@Test func scalarsHaveNoAxesButDoNotCrash() throws {
    // Axis arguments on rank-0 tensors are errors, not out-of-range traps.
    let scalar = try f32([3], [])
    expectInterpreterError("invalid-node") { _ = try runNode("Split", inputs: [("x", scalar)], outputs: 1) }
    expectInterpreterError("invalid-node") { _ = try runSingle("Gather", inputs: [("x", scalar)], constants: [("i", try i64([0]))]) }
    expectInterpreterError("invalid-node") {
        _ = try runSingle("ReduceMean", inputs: [("x", scalar)], attributes: [attribute("axes", [0])], opset: 13)
    }
    #expect(try runSingle("Relu", inputs: [("x", try f32([-3], []))]).shape == [])
}

@Test func errorCodesAreStable() {
    let cases: [(InterpreterError, String)] = [
        (.missingInput(name: "x"), "missing-input"),
        (.unknownInput(name: "x", known: []), "unknown-input"),
        (.inputShapeMismatch(name: "x", expected: "float[1]", actual: [2]), "input-shape-mismatch"),
        (.inputTypeMismatch(name: "x", expected: "float", actual: "int64"), "input-type-mismatch"),
        (.unsupportedOperator(node: "n", op: "Foo", domain: ""), "unsupported-operator"),
        (.unsupportedAttribute(node: "n", op: "Conv", attribute: "auto_pad", value: "X"), "unsupported-attribute"),
        (.invalidNode(node: "n", op: "Conv", problem: "p"), "invalid-node"),
        (.tensorTooLarge(node: "n", op: "Reshape", shape: [1], limit: 1), "tensor-too-large"),
        (.graph(problem: "p"), "invalid-graph"),
    ]
    for (error, code) in cases {
        #expect(error.code == code)
        #expect(error.localizedDescription.count > 10)
    }
}
