import Foundation
import GhostInterpreter
import GhostIR
import GhostNumPy
import GhostONNX
import Testing
import TestSupport

/// One bundled model from Models/manifest.json with its input and ONNX Runtime / PyTorch goldens.
struct BundledModel: Decodable, Sendable, CustomTestStringConvertible {
    struct Input: Decodable, Sendable { let name: String; let file: String }
    struct Output: Decodable, Sendable { let name: String; let file: String; let file_f64: String? }
    let id: String
    let file: String
    let inputs: [Input]
    let outputs: [Output]

    var testDescription: String { id }

    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Models")

    static func all() -> [BundledModel] {
        guard let data = try? Data(contentsOf: root.appendingPathComponent("manifest.json")) else { return [] }
        return (try? JSONDecoder().decode([BundledModel].self, from: data)) ?? []
    }

    func path(_ relative: String) -> String { BundledModel.root.appendingPathComponent(relative).path }
}

@Test func everyBundledModelIsListed() {
    #expect(BundledModel.all().count >= 15)
}

@Test(arguments: BundledModel.all())
func float32RunMatchesONNXRuntime(_ model: BundledModel) throws {
    let graph = try ONNXModelLoader.load(path: model.path(model.file)).graph
    var inputs: [String: Tensor] = [:]
    for input in model.inputs { inputs[input.name] = try NumPyFile.read(path: model.path(input.file)) }
    let outputs = try Interpreter(graph: graph, precision: .float32).run(inputs)
    for output in model.outputs {
        let expected = try NumPyFile.read(path: model.path(output.file))
        let actual = try #require(outputs[output.name])
        #expect(actual.shape == expected.shape)
        #expect(actual.elementType == .float32)
        let error = relativeDifference(actual, expected)
        #expect(error <= 1e-5, "\(model.id) '\(output.name)': rel error \(error)")
    }
}

@Test(arguments: BundledModel.all())
func float64RunMatchesPyTorchInDouble(_ model: BundledModel) throws {
    let graph = try ONNXModelLoader.load(path: model.path(model.file)).graph
    var inputs: [String: Tensor] = [:]
    for input in model.inputs { inputs[input.name] = try NumPyFile.read(path: model.path(input.file)) }
    let outputs = try Interpreter(graph: graph, precision: .float64).run(inputs)
    for output in model.outputs {
        guard let file = output.file_f64 else { continue }
        let expected = try NumPyFile.read(path: model.path(file))
        let actual = try #require(outputs[output.name])
        #expect(actual.elementType == .float64)
        let error = relativeDifference(actual, expected)
        // The float64 goldens come from PyTorch in double: agreement to ~1e-12 shows both
        // implement the same function, far inside the 1e-5 the verifier uses.
        #expect(error <= 1e-5, "\(model.id) '\(output.name)': rel error \(error)")
    }
}

/// A run that keeps intermediates evaluates every node on its own; an ordinary run lets each
/// Conv apply the BatchNormalization and activation after it to its own output. The two must
/// agree to the bit, in both precisions, on every bundled model (which between them have
/// Conv→BN, Conv→BN→Relu/HardSwish/Clip, Conv→Relu and BNs that are not after a Conv).
@Test(arguments: BundledModel.all())
func fusedEpiloguesAreBitIdenticalToSeparateNodes(_ model: BundledModel) throws {
    let graph = try ONNXModelLoader.load(path: model.path(model.file)).graph
    var inputs: [String: Tensor] = [:]
    for input in model.inputs { inputs[input.name] = try NumPyFile.read(path: model.path(input.file)) }
    for precision in Precision.allCases {
        let interpreter = try Interpreter(graph: graph, precision: precision)
        let fused = try interpreter.run(inputs)
        let separate = try interpreter.run(inputs, keepingIntermediates: true)
        for output in model.outputs {
            let a = try #require(fused[output.name]), b = try #require(separate[output.name])
            #expect(a.shape == b.shape)
            #expect(Array(a.storage.bytes) == Array(b.storage.bytes), "\(model.id) \(precision) '\(output.name)' differs")
        }
    }
}

@Test func trainingFormModelsFuseTheirBatchNormalizations() throws {
    let model = try #require(BundledModel.all().first { $0.id == "repghostnet_100" })
    let graph = try ONNXModelLoader.load(path: model.path(model.file)).graph
    let batchNorms = graph.nodes.filter { $0.opType == "BatchNormalization" }.count
    let interpreter = try Interpreter(graph: graph)
    // Every BN directly after a Conv (all but the identity-branch ones) and the Relus after them.
    #expect(interpreter.nodesFusedIntoConvs > batchNorms / 2)
    #expect(interpreter.nodesFusedIntoConvs < graph.nodes.count)
}

@Test func constantShapeArithmeticIsComputedOnce() throws {
    // ShuffleNetV2's channel shuffle reshapes with shapes built from Constant nodes.
    let model = try #require(BundledModel.all().first { $0.id == "shufflenet_v2_x1_0" })
    let graph = try ONNXModelLoader.load(path: model.path(model.file)).graph
    let constantNodes = graph.nodes.filter { $0.opType == "Constant" }.count
    let interpreter = try Interpreter(graph: graph)
    #expect(constantNodes > 0)
    #expect(interpreter.nodesComputedAhead >= constantNodes)
}
