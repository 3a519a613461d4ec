import Foundation
import GhostIR
import GhostONNX
import Testing
import TestSupport

/// No command writes over a file it reads (model, external data, inputs) or over another of its
/// own outputs: each such path is refused with exit 2 and `[output-is-input]` /
/// `[outputs-collide]`, before anything is written.
private struct Workspace {
    let directory: URL
    init() throws { directory = try temporaryDirectory("cli") }
    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }
    func bytes(_ name: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: path(name))) }
    func exists(_ name: String) -> Bool { FileManager.default.fileExists(atPath: path(name)) }
    /// The files in the directory, hidden ones (temporary files) included.
    func listing() throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted() }

    /// A small model `name` whose weights live in the external file `dataFile` (written as
    /// `dataFile` minus ".data", then renamed, so the location inside stays `dataFile`).
    func writeModel(named name: String, dataFile: String) throws {
        let first = String(dataFile.dropLast(5))
        try CLI.writeSmallModel(to: path("small-inline.onnx"))
        let graph = try ONNXModelLoader.load(path: path("small-inline.onnx")).graph
        try ONNXWriter.write(graph, to: path(first), externalData: .always(threshold: 0))
        try FileManager.default.moveItem(atPath: path(first), toPath: path(name))
        try FileManager.default.removeItem(atPath: path("small-inline.onnx"))
    }

    /// Copies Models/tiny_external (model.onnx + its external model.weights) here.
    func copyExternalModel() throws {
        for name in ["model.onnx", "model.weights", "input.npy"] {
            try FileManager.default.copyItem(atPath: repositoryRoot.appendingPathComponent("Models/tiny_external/\(name)").path,
                                            toPath: path(name))
        }
    }
}

/// Runs `arguments` and checks: exit 2, the code in stderr, and `protected` files unchanged.
private func expectRefusal(_ workspace: Workspace, _ arguments: [String], code: String = "output-is-input",
                           protecting protected: [String], absent: [String] = []) throws {
    let before = try protected.map { try workspace.bytes($0) }
    let result = try CLI.run(arguments)
    #expect(result.status == 2, "\(arguments): exit \(result.status), \(result.stderr)")
    #expect(result.stderr.contains("[\(code)]"), "\(arguments): \(result.stderr)")
    for (name, bytes) in zip(protected, before) {
        #expect(try workspace.bytes(name) == bytes, "\(name) was changed by \(arguments)")
    }
    for name in absent { #expect(!workspace.exists(name), "\(name) was written by the refused \(arguments)") }
    let listing = try workspace.listing()
    #expect(listing.allSatisfy { !$0.hasPrefix(".") }, "temporary files left: \(listing)")
}

@Test func fuseRefusesReportOverItsInputsAndOutputs() throws {
    let w = try Workspace()
    defer { try? FileManager.default.removeItem(at: w.directory) }
    try w.copyExternalModel()
    let model = w.path("model.onnx")
    try expectRefusal(w, ["fuse", model, w.path("out.gwt"), "--report", model], protecting: ["model.onnx"], absent: ["out.gwt"])
    try expectRefusal(w, ["fuse", model, w.path("out.gwt"), "--report", w.path("model.weights")],
                      protecting: ["model.onnx", "model.weights"], absent: ["out.gwt"])
    // The fused ONNX output's data file (OUT.data) onto the model's external data file.
    try w.writeModel(named: "x.onnx", dataFile: "out.onnx.data")
    try expectRefusal(w, ["fuse", w.path("x.onnx"), w.path("out.onnx")], protecting: ["x.onnx", "out.onnx.data"], absent: ["out.onnx"])
    // Report and output the same file.
    try expectRefusal(w, ["fuse", model, w.path("out.gwt"), "--report", w.path("out.gwt")], code: "outputs-collide",
                      protecting: ["model.onnx"], absent: ["out.gwt"])
    // A hard link to the model is the model.
    try FileManager.default.linkItem(atPath: model, toPath: w.path("link.json"))
    try expectRefusal(w, ["fuse", model, w.path("out.gwt"), "--report", w.path("link.json")], protecting: ["model.onnx"],
                      absent: ["out.gwt"])
    // A report that cannot be written fails before the fused model exists.
    let result = try CLI.run(["fuse", model, w.path("out.gwt"), "--report", w.path("missing/r.json")])
    #expect(result.status == 2)
    #expect(!w.exists("out.gwt"))
}

@Test func otherCommandsRefuseWritingOverWhatTheyRead() throws {
    let w = try Workspace()
    defer { try? FileManager.default.removeItem(at: w.directory) }
    try w.copyExternalModel()
    let model = w.path("model.onnx")
    #expect(try CLI.run(["fuse", model, w.path("fused.gwt")]).status == 0)
    try expectRefusal(w, ["verify", model, w.path("fused.gwt"), "--report", model], protecting: ["model.onnx"])
    try expectRefusal(w, ["verify", model, w.path("fused.gwt"), "--report", w.path("fused.gwt")], protecting: ["fused.gwt"])
    try expectRefusal(w, ["verify", model, w.path("fused.gwt"), "--input", w.path("input.npy"), "--report", w.path("input.npy")],
                      protecting: ["input.npy"])
    try expectRefusal(w, ["graph", model, "--output", model], protecting: ["model.onnx"])
    try expectRefusal(w, ["graph", w.path("fused.gwt"), "--fused-from", model, "--output", w.path("model.weights")],
                      protecting: ["model.weights"])
    // convert onto the model itself, and to an ONNX file whose data file would replace the input's.
    try expectRefusal(w, ["convert", model, w.path("./model.onnx")], protecting: ["model.onnx"])
    try w.writeModel(named: "x.onnx", dataFile: "m.onnx.data")
    try expectRefusal(w, ["convert", w.path("x.onnx"), w.path("m.onnx"), "--external-data", "always"],
                      protecting: ["x.onnx", "m.onnx.data"], absent: ["m.onnx"])
}

@Test func runRefusesAnOutputOverItsInput() throws {
    let w = try Workspace()
    defer { try? FileManager.default.removeItem(at: w.directory) }
    try w.copyExternalModel()
    let model = w.path("model.onnx")
    let graph = try ONNXModelLoader.load(path: model).graph
    let outputName = try #require(graph.outputs.first?.name)
    // The input file named like the output the run would write, in the output directory.
    try FileManager.default.copyItem(atPath: w.path("input.npy"), toPath: w.path("\(outputName).npy"))
    try expectRefusal(w, ["run", model, "--input", w.path("\(outputName).npy"), "--output-dir", w.directory.path],
                      protecting: ["\(outputName).npy", "model.onnx"])
}

/// Outputs "a/b" and "a_b" both map to a_b.npy: the later one in graph order gets a_b-2.npy, and
/// both files hold their own values.
@Test func runKeepsOutputsWhoseFileNamesCollide() throws {
    let w = try Workspace()
    defer { try? FileManager.default.removeItem(at: w.directory) }
    let twoOutputs = Graph(
        name: "collide",
        inputs: [Value(name: "x", elementType: .float32, shape: [.fixed(2)])],
        outputs: [Value(name: "a/b", elementType: .float32), Value(name: "a_b", elementType: .float32)],
        nodes: [Node(name: "r", opType: "Relu", inputs: ["x"], outputs: ["a/b"]),
                Node(name: "s", opType: "Sigmoid", inputs: ["x"], outputs: ["a_b"])],
        opsetImports: [OpsetImport(domain: "", version: 17)])
    try ONNXWriter.write(twoOutputs, to: w.path("m.onnx"))
    let result = try CLI.run(["run", w.path("m.onnx"), "--random-input", "--output-dir", w.path("out")])
    #expect(result.status == 0, "\(result.stderr)")
    let files = try FileManager.default.contentsOfDirectory(atPath: w.path("out")).sorted()
    #expect(files == ["a_b-2.npy", "a_b.npy"])
}

/// NaN, negative and infinite tolerances would accept anything (or nothing): usage errors.
@Test(arguments: [["--atol", "nan", "--rtol", "nan"], ["--atol=-1", "--rtol", "0"], ["--tolerance", "nan"],
                  ["--tolerance", "inf"], ["--tolerance=-1e-5"], ["--atol", "inf", "--rtol", "0"]])
func verifyRefusesToleranceThatAcceptsAnything(_ tolerance: [String]) throws {
    let model = repositoryRoot.appendingPathComponent("Models/repghostnet_025_opset13/model.onnx").path
    let result = try CLI.run(["verify", model, model] + tolerance)
    #expect(result.status == 2, "\(tolerance): \(result.stderr)")
    #expect(result.stderr.contains("finite number"), "\(result.stderr)")
}

/// A graph with no outputs has nothing to compare: a usage error, not "equivalent".
@Test func verifyOfAGraphWithoutOutputsIsAUsageError() throws {
    let w = try Workspace()
    defer { try? FileManager.default.removeItem(at: w.directory) }
    let graph = Graph(name: "empty", inputs: [Value(name: "x", elementType: .float32, shape: [.fixed(2)])], outputs: [],
                      nodes: [], opsetImports: [OpsetImport(domain: "", version: 17)])
    try ONNXWriter.write(graph, to: w.path("empty.onnx"))
    let result = try CLI.run(["verify", w.path("empty.onnx"), w.path("empty.onnx")])
    #expect(result.status == 2, "\(result.stderr)")
    #expect(result.stderr.contains("[no-outputs]"))
}
