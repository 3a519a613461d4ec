import Foundation
import GhostIR
import Testing
import TestSupport

/// `run` writes one .npy per output, equal (in float32) to the committed ONNX Runtime golden.
@Test func runWritesOutputsMatchingTheGolden() throws {
    let directory = try temporaryDirectory("cli")
    defer { try? FileManager.default.removeItem(at: directory) }
    let model = repositoryRoot.appendingPathComponent("Models/repghostnet_025_opset13")
    let result = try CLI.run(["run", model.appendingPathComponent("model.onnx").path,
                              "--input", model.appendingPathComponent("input.npy").path, "--output-dir", directory.path])
    #expect(result.status == 0, "\(result.stderr)")
    let files = try FileManager.default.contentsOfDirectory(atPath: directory.path)
    #expect(files == ["logits.npy"])
    // .npy float32: compare the data bytes after each file's header.
    func floats(_ url: URL) throws -> [Float] {
        let bytes = [UInt8](try Data(contentsOf: url))
        let headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
        return bytes[(10 + headerLength)...].withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
    }
    let ours = try floats(directory.appendingPathComponent("logits.npy"))
    let golden = try floats(model.appendingPathComponent("output.npy"))
    #expect(ours.count == golden.count)
    let difference = relativeDifference(ours, golden)
    #expect(difference <= 1e-5, "relative difference \(difference)")
}

@Test func runWithRandomInputAndUsageErrors() throws {
    let directory = try temporaryDirectory("cli")
    defer { try? FileManager.default.removeItem(at: directory) }
    let model = repositoryRoot.appendingPathComponent("Models/tiny_external/model.onnx").path
    let random = try CLI.run(["run", model, "--random-input", "--seed", "3", "--precision", "f64", "--output-dir", directory.path])
    #expect(random.status == 0, "\(random.stderr)")
    #expect(random.stderr.contains("double"))
    #expect(try CLI.run(["run", model, "--output-dir", directory.path]).status == 2)  // neither --input nor --random-input
    let wrongShape = directory.appendingPathComponent("x.npy")
    // A valid .npy of two floats: the model wants a 4-D image.
    var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }"
    let padded = (10 + header.utf8.count + 1 + 63) / 64 * 64
    header += String(repeating: " ", count: padded - 10 - header.utf8.count - 1) + "\n"
    try Data([0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.utf8.count), 0] + Array(header.utf8) + [UInt8](repeating: 0, count: 8)).write(to: wrongShape)
    let mismatch = try CLI.run(["run", model, "--input", wrongShape.path, "--output-dir", directory.path])
    #expect(mismatch.status == 2)
    #expect(mismatch.stderr.contains("input-shape-mismatch") || mismatch.stderr.contains("should be"))
}
