// Usage: FuseAndRun MODEL.onnx OUT.gwt [INPUT.npy GOLDEN.npy]
//
// Loads an ONNX export, fuses it, writes the deployable .gwt, reads it back and runs both the
// original and the deployed graph on the same input. Every output of the original must come out
// of the deployed graph with max |Δ| / max |original| ≤ 1e-5 (a NaN or infinity on one side only
// fails); with INPUT.npy and GOLDEN.npy (ONNX Runtime's output on that input, for a model with
// one output), the deployed graph's output must also match the golden within 1e-5.
// Exits 0 when everything matches, 1 on a mismatch, a missing output or an error, 2 on usage.
import Foundation
import GhostGWT
import GhostInterpreter
import GhostIR
import GhostNumPy
import GhostONNX
import GhostPasses

let tolerance = 1e-5

/// max |actual − expected| / max |expected| over the finite elements of `expected`; +infinity
/// when the shapes differ or a non-finite value on either side is not the same special value on
/// the other (a plain max over |Δ| would drop a NaN).
func relativeDifference(_ actual: Tensor, _ expected: Tensor) -> Double {
    guard actual.shape == expected.shape else { return .infinity }
    let a = actual.doubleValues(), e = expected.doubleValues()
    var worst = 0.0, scale = 0.0
    for (x, y) in zip(a, e) {
        if !x.isFinite || !y.isFinite {
            if !(y.isNaN ? x.isNaN : x == y) { return .infinity }
            continue
        }
        worst = max(worst, abs(x - y))
        scale = max(scale, abs(y))
    }
    return scale == 0 ? worst : worst / scale
}

let arguments = CommandLine.arguments
guard arguments.count == 3 || arguments.count == 5 else {
    print("usage: FuseAndRun MODEL.onnx OUT.gwt [INPUT.npy GOLDEN.npy]")
    exit(2)
}
do {
    // 1. Load and fuse.
    let original = try ONNXModelLoader.load(path: arguments[1]).graph
    let result = try PassPipeline.default.run(original)
    print("nodes \(original.nodes.count) → \(result.graph.nodes.count)")

    // 2. Write the deployable file and read it back (weights are memory-mapped).
    try GWTWriter.write(result.graph, metadata: GWTMetadata(tool: "FuseAndRun"), to: arguments[2])
    let deployed = try GWTReader.read(path: arguments[2]).graph

    // 3. Run both on the same input and compare.
    guard original.runtimeInputs.count == 1, let input = original.runtimeInputs.first else {
        print("the sample needs a model with one input")
        exit(2)
    }
    let x: Tensor
    if arguments.count == 5 {
        x = try NumPyFile.read(path: arguments[3])
    } else {
        guard let shape = input.fixedShape else {
            print("the model's input has no fixed shape: give INPUT.npy")
            exit(2)
        }
        x = try Tensor(float32: (0..<shape.reduce(1, *)).map { Float($0 % 17) / 17 - 0.5 }, shape: shape)
    }
    let before = try Interpreter(graph: original).run([input.name: x])
    let after = try Interpreter(graph: deployed).run([input.name: x])
    var failed = false
    for output in original.outputs {
        guard let a = before[output.name], let b = after[output.name] else {
            print("\(output.name): missing from the \(before[output.name] == nil ? "original" : "deployed") graph's outputs")
            failed = true
            continue
        }
        let difference = relativeDifference(b, a)
        let verdict = difference <= tolerance ? "ok" : "FAILED (> \(tolerance))"
        print("\(output.name): deployed vs original max |Δ| / max |original| = \(difference) \(verdict)")
        failed = failed || !(difference <= tolerance)
    }
    if arguments.count == 5 {
        let golden = try NumPyFile.read(path: arguments[4])
        if original.outputs.count != 1 {
            print("GOLDEN.npy needs a model with one output, this one has \(original.outputs.count)")
            failed = true
        } else if let b = after[original.outputs[0].name] {
            let difference = relativeDifference(b, golden)
            let verdict = difference <= tolerance ? "ok" : "FAILED (> \(tolerance))"
            print("\(original.outputs[0].name): deployed vs golden max |Δ| / max |golden| = \(difference) \(verdict)")
            failed = failed || !(difference <= tolerance)
        }
    }
    exit(failed ? 1 : 0)
} catch {
    print("error: \(error)")
    exit(1)
}
