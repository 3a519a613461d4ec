import Foundation
import GhostONNX
import Testing
import TestSupport

@Test func convertRewritesWithExternalData() throws {
    let directory = try temporaryDirectory("cli")
    defer { try? FileManager.default.removeItem(at: directory) }
    let model = directory.appendingPathComponent("small.onnx").path
    let copy = directory.appendingPathComponent("copy.onnx").path
    try CLI.writeSmallModel(to: model)
    let result = try CLI.run(["convert", model, copy, "--external-data", "always"])
    #expect(result.status == 0, "\(result.stderr)")
    // 96 bytes of weights stay under the 1 KiB threshold: the data file is empty.
    let data = try FileManager.default.attributesOfItem(atPath: copy + ".data")
    #expect(data[.size] as? Int == 0)
    let original = try ONNXModelLoader.load(path: model)
    let converted = try ONNXModelLoader.load(path: copy)
    #expect(converted.graph == original.graph)
}

@Test func convertRefusesToOverwriteItsInput() throws {
    let directory = try temporaryDirectory("cli")
    defer { try? FileManager.default.removeItem(at: directory) }
    let model = directory.appendingPathComponent("small.onnx").path
    try CLI.writeSmallModel(to: model)
    let before = try Data(contentsOf: URL(fileURLWithPath: model))
    // The same file through a different spelling of its path.
    let result = try CLI.run(["convert", model, directory.path + "/./small.onnx"])
    #expect(result.status == 2)
    #expect(result.stderr.contains("[output-is-input]"))
    #expect(try Data(contentsOf: URL(fileURLWithPath: model)) == before)
}

@Test func failedConvertLeavesNoOutput() throws {
    let directory = try temporaryDirectory("cli")
    defer { try? FileManager.default.removeItem(at: directory) }
    let broken = directory.appendingPathComponent("broken.onnx")
    try Data([0x3A, 0x05, 0x0A]).write(to: broken)
    let output = directory.appendingPathComponent("out.onnx").path
    let result = try CLI.run(["convert", broken.path, output])
    #expect(result.status == 2)
    #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["broken.onnx"])
}
