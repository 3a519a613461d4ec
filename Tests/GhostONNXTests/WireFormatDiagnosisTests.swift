import Foundation
import GhostIR
import TestSupport
@testable import GhostONNX
import Testing

private func load(_ bytes: [UInt8]) throws -> ONNXLoadError? {
    let directory = try temporaryDirectory("onnx")
    defer { try? FileManager.default.removeItem(at: directory) }
    let path = directory.appendingPathComponent("bad.onnx")
    try Data(bytes).write(to: path)
    do {
        _ = try ONNXModelLoader.load(path: path.path)
        return nil
    } catch {
        return error
    }
}

@Test func everyTruncationIsAMalformedProtobufWithAnOffset() throws {
    let bytes = ONNXWriter.serialize(try TestGraphs.convBatchNorm())
    var failures = 0
    for length in stride(from: 1, to: bytes.count, by: 7) {
        guard let error = try load(Array(bytes[0..<length])) else { continue }
        failures += 1
        if case .malformedProtobuf(_, let offset, _) = error {
            #expect(offset != nil && offset! <= length, "truncation at \(length): offset \(String(describing: offset))")
        } else {
            // A cut exactly between fields decodes; it then fails the model's own checks.
            #expect(error.code != "malformed-protobuf")
        }
    }
    #expect(failures > bytes.count / 7 / 2)
}

@Test func diagnosisNamesTheField() throws {
    // Field 7 (graph) with a length prefix far past the end of the file.
    let bytes: [UInt8] = [0x08, 0x08, 0x3A, 0xFF, 0xFF, 0xFF, 0x7F, 0x00]
    guard case .malformedProtobuf(_, let offset, let detail)? = try load(bytes) else {
        Issue.record("expected malformed-protobuf")
        return
    }
    #expect(offset == 2)
    #expect(detail.contains("onnx.ModelProto.graph"))
}

@Test func wrongWireTypeIsNamed() throws {
    // ir_version (field 1) sent as a length-delimited field.
    let bytes: [UInt8] = [0x0A, 0x01, 0x00]
    guard case .malformedProtobuf(_, let offset, let detail)? = try load(bytes) else {
        Issue.record("expected malformed-protobuf")
        return
    }
    #expect(offset == 0)
    #expect(detail.contains("ir_version"))
    #expect(detail.contains("wire type 2"))
}

@Test func emptyFileHasItsOwnError() throws {
    #expect(try load([])?.code == "empty-file")
}

@Test func missingFileIsUnreadable() {
    #expect(throws: ONNXLoadError.self) { try ONNXModelLoader.load(path: "/nonexistent/model.onnx") }
    do {
        _ = try ONNXModelLoader.load(path: "/nonexistent/model.onnx")
    } catch {
        #expect(error.code == "file-unreadable")
        #expect(error.localizedDescription.contains("/nonexistent/model.onnx"))
    }
}
