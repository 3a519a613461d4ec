import GhostInterpreter
import GhostIR
import Testing
import TestSupport

/// x[1,2,4,4] → Conv 3×3 (2→3, pad 1, bias) → `c` → BatchNormalization → `b` → `activation` → `y`,
/// plus what each case adds: a second reader or graph output in the middle, BN parameters that are
/// graph inputs, a Clip bound that is a graph input.
private struct EpilogueCase {
    var convOutputIsGraphOutput = false
    var batchNormOutputHasTwoReaders = false
    var batchNormMeanIsInput = false
    var activation = "Relu"
    var clipBoundsComputed = false

    func graph() throws -> Graph {
        var random = SeededRandom(seed: 7)
        var initializers = InitializerTable()
        initializers["w"] = try f32(random.values(3 * 2 * 9).map(Float.init), [3, 2, 3, 3])
        initializers["bias"] = try f32(random.values(3).map(Float.init), [3])
        initializers["gamma"] = try f32([1.5, -0.5, 2], [3])
        initializers["beta"] = try f32([0.1, 0.2, -0.3], [3])
        initializers["var"] = try f32([0.5, 2, 0.25], [3])
        if !batchNormMeanIsInput { initializers["mean"] = try f32([0.2, -0.1, 0.05], [3]) }
        initializers["low"] = try f32([-0.25], [])
        initializers["high"] = try f32([0.75], [])
        var inputs = [Value(name: "x", elementType: .float32, shape: [1, 2, 4, 4].map(ShapeDimension.fixed))]
        if batchNormMeanIsInput { inputs.append(Value(name: "mean", elementType: .float32, shape: [.fixed(3)])) }
        if clipBoundsComputed { inputs.append(Value(name: "lowInput", elementType: .float32, shape: [])) }
        var nodes = [
            Node(name: "conv", opType: "Conv", inputs: ["x", "w", "bias"], outputs: ["c"],
                 attributes: [attribute("pads", [1, 1, 1, 1])]),
            Node(name: "bn", opType: "BatchNormalization", inputs: ["c", "gamma", "beta", "mean", "var"], outputs: ["b"]),
        ]
        if clipBoundsComputed {
            nodes.append(Node(name: "act", opType: "Clip", inputs: ["b", "lowInput", "high"], outputs: ["y"]))
        } else if activation == "Clip" {
            nodes.append(Node(name: "act", opType: "Clip", inputs: ["b", "low", "high"], outputs: ["y"]))
        } else {
            nodes.append(Node(name: "act", opType: activation, inputs: ["b"], outputs: ["y"]))
        }
        var outputs = [Value(name: "y")]
        if convOutputIsGraphOutput { outputs.append(Value(name: "c")) }
        if batchNormOutputHasTwoReaders {
            nodes.append(Node(name: "double", opType: "Add", inputs: ["b", "b"], outputs: ["z"]))
            outputs.append(Value(name: "z"))
        }
        return Graph(inputs: inputs, outputs: outputs, initializers: initializers, nodes: nodes,
                     opsetImports: [OpsetImport(domain: "", version: 17)])
    }

    func feeds() throws -> [String: Tensor] {
        var random = SeededRandom(seed: 11)
        var feeds = ["x": try f32(random.values(32).map { Float($0 * 3) }, [1, 2, 4, 4])]
        if batchNormMeanIsInput { feeds["mean"] = try f32([0.2, -0.1, 0.05], [3]) }
        if clipBoundsComputed { feeds["lowInput"] = try f32([-0.25], []) }
        return feeds
    }
}

/// Runs the case fused and node by node (a run keeping intermediates does not fuse); the graph
/// outputs must be bit-identical. Returns how many nodes were fused.
private func checkEpilogue(_ example: EpilogueCase, precision: Precision = .float32) throws -> Int {
    let interpreter = try Interpreter(graph: try example.graph(), precision: precision)
    let fused = try interpreter.run(try example.feeds())
    let separate = try interpreter.run(try example.feeds(), keepingIntermediates: true)
    for output in try example.graph().outputs {
        let a = try #require(fused[output.name]), b = try #require(separate[output.name])
        #expect(Array(a.storage.bytes) == Array(b.storage.bytes), "output \(output.name) differs")
    }
    // The separate run really applied BN and activation: y differs from c.
    #expect(separate["y"]?.doubleValues() != separate["c"]?.doubleValues())
    return interpreter.nodesFusedIntoConvs
}

@Test(arguments: ["Relu", "HardSwish", "Sigmoid", "LeakyRelu", "HardSigmoid", "Clip", "Tanh"])
func convAbsorbsBatchNormAndActivation(_ activation: String) throws {
    for precision in Precision.allCases {
        #expect(try checkEpilogue(EpilogueCase(activation: activation), precision: precision) == 2)
    }
}

@Test func aConvOutputThatIsAGraphOutputIsNotAbsorbed() throws {
    #expect(try checkEpilogue(EpilogueCase(convOutputIsGraphOutput: true)) == 0)
}

@Test func aSharedBatchNormOutputStopsTheEpilogueAfterTheBatchNorm() throws {
    #expect(try checkEpilogue(EpilogueCase(batchNormOutputHasTwoReaders: true)) == 1)
}

@Test func batchNormWithRuntimeParametersIsNotAbsorbed() throws {
    // The BN stays a node; the Relu after it is not after a Conv.
    #expect(try checkEpilogue(EpilogueCase(batchNormMeanIsInput: true)) == 0)
}

@Test func clipWithRuntimeBoundsIsNotAbsorbed() throws {
    #expect(try checkEpilogue(EpilogueCase(clipBoundsComputed: true)) == 1)
}
