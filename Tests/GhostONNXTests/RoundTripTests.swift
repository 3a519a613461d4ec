import Foundation
import GhostIR
import TestSupport
@testable import GhostONNX
import Testing

@Test func writtenGraphLoadsBackIdentical() throws {
    let graph = try TestGraphs.convBatchNorm()
    let directory = try temporaryDirectory("onnx")
    defer { try? FileManager.default.removeItem(at: directory) }
    let path = directory.appendingPathComponent("model.onnx").path
    try ONNXWriter.write(graph, to: path)
    let loaded = try ONNXModelLoader.load(path: path)
    #expect(loaded.graph == graph)
    #expect(loaded.source.externalData.isEmpty)
    // Inline weights view the unpacked message rather than being copied again.
    #expect(loaded.graph.initializers["W"]?.storage.isView == true)
}

@Test func writingIsDeterministic() throws {
    let graph = try TestGraphs.convBatchNorm()
    let first = ONNXWriter.serialize(graph)
    let second = ONNXWriter.serialize(graph)
    #expect(first == second)
    #expect(first.count > 300)
}

@Test func serializedBytesMatchTheStreamedFile() throws {
    let graph = try TestGraphs.convBatchNorm()
    let directory = try temporaryDirectory("onnx")
    defer { try? FileManager.default.removeItem(at: directory) }
    let path = directory.appendingPathComponent("model.onnx").path
    try ONNXWriter.write(graph, to: path)
    let written = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
    #expect(written == ONNXWriter.serialize(graph))
}

@Test func externalDataRoundTripsAndIsMapped() throws {
    let graph = try TestGraphs.convBatchNorm()
    let directory = try temporaryDirectory("onnx")
    defer { try? FileManager.default.removeItem(at: directory) }
    let path = directory.appendingPathComponent("model.onnx").path
    try ONNXWriter.write(graph, to: path, externalData: .always(threshold: 16))
    let loaded = try ONNXModelLoader.load(path: path)
    #expect(loaded.graph == graph)
    // W (216 bytes) and the int64 shape (16 bytes) go out; the 8-byte vectors stay inline.
    #expect(loaded.source.externalData == ["model.onnx.data": 216 + 16])
    let dataSize = try FileManager.default.attributesOfItem(atPath: path + ".data")[.size] as? Int
    #expect(dataSize == 256 + 16)  // W at 0, the shape in the next 64-byte aligned slot
    #expect(loaded.graph.initializers["W"]?.storage.isView == true)
}

@Test func failedWriteLeavesNothingBehind() throws {
    let graph = try TestGraphs.convBatchNorm()
    let directory = try temporaryDirectory("onnx")
    defer { try? FileManager.default.removeItem(at: directory) }
    let missing = directory.appendingPathComponent("no/such/dir/model.onnx").path
    #expect(throws: ONNXWriteError.self) { try ONNXWriter.write(graph, to: missing) }
    #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty)
}

@Test func bundledModelsRoundTrip() throws {
    let manifest = repositoryRoot.appendingPathComponent("Models/manifest.json")
    guard let data = try? Data(contentsOf: manifest) else {
        Issue.record("Models/manifest.json is missing")
        return
    }
    let entries = try JSONDecoder().decode([ManifestEntry].self, from: data)
    #expect(entries.count >= 8)
    let directory = try temporaryDirectory("onnx")
    defer { try? FileManager.default.removeItem(at: directory) }
    for entry in entries {
        let source = repositoryRoot.appendingPathComponent("Models").appendingPathComponent(entry.file).path
        let original = try ONNXModelLoader.load(path: source)
        #expect(original.graph.nodes.count == entry.nodes, "\(entry.id)")
        #expect(original.graph.nodes.filter { $0.isONNX("BatchNormalization") }.count == entry.batchnorm_nodes, "\(entry.id)")
        let copy = directory.appendingPathComponent("\(entry.id).onnx").path
        try ONNXWriter.write(original.graph, to: copy)
        let reloaded = try ONNXModelLoader.load(path: copy)
        #expect(reloaded.graph == original.graph, "\(entry.id) changed in a load → write → load round trip")
    }
}

struct ManifestEntry: Decodable {
    let id: String
    let file: String
    let nodes: Int
    let batchnorm_nodes: Int
}
