// Usage: FuseAndRun MODEL.onnx OUT.gwt
import Foundation
import GhostGWT
import GhostInterpreter
import GhostIR
import GhostONNX
import GhostPasses

let arguments = CommandLine.arguments
guard arguments.count == 3 else {
    print("usage: FuseAndRun MODEL.onnx OUT.gwt")
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
    guard let input = original.runtimeInputs.first, let shape = input.fixedShape else {
        print("the sample needs a model with one input of fixed shape")
        exit(2)
    }
    let count = shape.reduce(1, *)
    let x = try Tensor(float32: (0..<count).map { Float($0 % 17) / 17 - 0.5 }, shape: shape)
    let before = try Interpreter(graph: original).run([input.name: x])
    let after = try Interpreter(graph: deployed).run([input.name: x])
    for output in original.outputs {
        guard let a = before[output.name]?.elements(as: Float.self), let b = after[output.name]?.elements(as: Float.self) else { continue }
        let difference = zip(a, b).map { abs($0 - $1) }.max() ?? 0
        let scale = a.map(abs).max() ?? 1
        print("\(output.name): max |Δ| / max |a| = \(difference / max(scale, 1e-30))")
    }
} catch {
    print("error: \(error)")
    exit(1)
}
