import Foundation
import Testing
import TestSupport

/// Tests/Fixtures/hostile (scripts/corpus/make_hostile.py): valid files with attributes or
/// declared shapes crafted to overflow size arithmetic or exhaust memory. Each is refused with
/// its typed error and exit 2, or (code "ok") runs at once to a tiny output — never a signal.
@Test func hostileModelsGiveTypedErrorsNotSignals() throws {
    struct Case: Decodable { let file: String; let command: String; let code: String }
    let directory = repositoryRoot.appendingPathComponent("Tests/Fixtures/hostile")
    let cases = try JSONDecoder().decode([Case].self, from: Data(contentsOf: directory.appendingPathComponent("manifest.json")))
    #expect(cases.count >= 14)
    let scratch = try temporaryDirectory("cli")
    defer { try? FileManager.default.removeItem(at: scratch) }
    for testCase in cases {
        let model = directory.appendingPathComponent(testCase.file).path
        let arguments = testCase.command == "verify"
            ? ["verify", model, model]
            : ["run", model, "--random-input", "--output-dir", scratch.appendingPathComponent(testCase.file).path]
        let result = try CLI.run(arguments)
        if testCase.code == "ok" {
            #expect(result.status == 0, "\(testCase.file): exit \(result.status) \(result.stderr)")
        } else {
            #expect(result.status == 2, "\(testCase.file): exit \(result.status) \(result.stderr)")
            #expect(result.stderr.contains("[\(testCase.code)]"), "\(testCase.file): \(result.stderr)")
        }
    }
}

/// --shape with sizes whose product overflows, and --samples far beyond memory, are refused before
/// anything is allocated; --max-memory bounds one sample.
@Test func verifyBoundsRandomInputs() throws {
    let model = repositoryRoot.appendingPathComponent("Models/repghostnet_025_dynamo/model.onnx").path
    let huge = try CLI.run(["verify", model, model, "--shape", "input=9223372036854775807x4"])
    #expect(huge.status == 2, "\(huge.stderr)")
    #expect(huge.stderr.contains("[input-too-large]") || huge.stderr.contains("[input-shape-mismatch]"), "\(huge.stderr)")
    let budget = repositoryRoot.appendingPathComponent("Models/repghostnet_025_opset13/model.onnx").path
    let small = try CLI.run(["verify", budget, budget, "--max-memory", "1K"])
    #expect(small.status == 2, "\(small.stderr)")
    #expect(small.stderr.contains("[input-too-large]") && small.stderr.contains("--max-memory"), "\(small.stderr)")
    let bad = try CLI.run(["verify", budget, budget, "--max-memory", "lots"])
    #expect(bad.status == 2)
}

/// A FIFO (with no writer), a directory or a device where a file belongs is refused at once with
/// `[not-a-regular-file]` (external data: `[external-data-not-a-file]` naming it), never a hang or exit 1.
@Test func nonRegularFilesAreRefusedWithoutBlocking() throws {
    let scratch = try temporaryDirectory("cli")
    defer { try? FileManager.default.removeItem(at: scratch) }
    let fifo = scratch.appendingPathComponent("pipe.onnx").path
    #expect(mkfifo(fifo, 0o600) == 0)
    let model = repositoryRoot.appendingPathComponent("Models/repghostnet_025_opset13/model.onnx").path
    let cases: [([String], String)] = [
        (["inspect", fifo], "not-a-regular-file"),
        (["inspect", scratch.path], "not-a-regular-file"),
        (["fuse", "/dev/zero", scratch.appendingPathComponent("o.gwt").path], "not-a-regular-file"),
        (["run", model, "--input", fifo, "--output-dir", scratch.appendingPathComponent("out").path], "not-a-regular-file"),
        (["verify", model, fifo], "not-a-regular-file"),
    ]
    for (arguments, code) in cases {
        let result = try CLI.run(arguments)
        #expect(result.status == 2, "\(arguments): exit \(result.status) \(result.stderr)")
        #expect(result.stderr.contains("[\(code)]"), "\(arguments): \(result.stderr)")
    }
    // External data that is a FIFO.
    for name in ["model.onnx", "input.npy"] {
        try FileManager.default.copyItem(atPath: repositoryRoot.appendingPathComponent("Models/tiny_external/\(name)").path,
                                        toPath: scratch.appendingPathComponent(name).path)
    }
    #expect(mkfifo(scratch.appendingPathComponent("model.weights").path, 0o600) == 0)
    let external = try CLI.run(["inspect", scratch.appendingPathComponent("model.onnx").path])
    #expect(external.status == 2, "\(external.stderr)")
    #expect(external.stderr.contains("FIFO") && external.stderr.contains("[external-data-not-a-file]"), "\(external.stderr)")
}

/// A valid .npy with no elements and an axis of 2⁴⁰ (Tests/Fixtures/hostile/empty_axis_2pow40.npy):
/// the reader accepts it, and the interpreter refuses to bind it, since kernels size tables and
/// loops by each axis; before, Hardmax tried to allocate a 4 TB lane buffer.
@Test func emptyInputWithAHugeAxisIsRefusedWhenBound() throws {
    let directory = repositoryRoot.appendingPathComponent("Tests/Fixtures/hostile")
    let scratch = try temporaryDirectory("cli")
    defer { try? FileManager.default.removeItem(at: scratch) }
    let result = try CLI.run(["run", directory.appendingPathComponent("hardmax_empty_input_axis_2pow40.onnx").path,
                              "--input", directory.appendingPathComponent("empty_axis_2pow40.npy").path,
                              "--output-dir", scratch.appendingPathComponent("out").path])
    #expect(result.status == 2, "\(result.stderr)")
    #expect(result.stderr.contains("[tensor-too-large]") && result.stderr.contains("[0, 1099511627776]"), "\(result.stderr)")
    #expect(!FileManager.default.fileExists(atPath: scratch.appendingPathComponent("out/y.npy").path))
}
