import ArgumentParser
import Foundation
import GhostInterpreter
import GhostIR
import GhostNumPy
import GhostVerify

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a model in the reference interpreter and save its outputs as .npy.",
        discussion: """
            Feeds the model (.onnx or .gwt) the given .npy inputs, or random N(0,1) inputs of the \
            declared shapes, and writes one .npy per graph output into --output-dir (file name from \
            the output name, made safe for a file system: "/head/out" becomes head_out.npy; when two \
            outputs would get the same name, the later one in graph order gets -2, -3, … before \
            .npy). A model without runtime inputs needs neither. All outputs are written, then \
            moved into place together; an output path that is one of the inputs is refused.

            Examples:
              ghost-convert run model.onnx --input x.npy --output-dir out/
              ghost-convert run model.gwt --random-input --seed 3 --output-dir out/ --precision f64
            """
    )

    @Argument(help: "The model to run.")
    var model: String

    @OptionGroup var inputs: InputOptions

    @Flag(help: "Draw N(0,1) inputs of the declared shapes instead of reading --input files.")
    var randomInput = false

    @Option(help: "Directory for the output .npy files (created if missing).")
    var outputDir: String

    @OptionGroup var interpreterOptions: InterpreterOptionsOf<DeploymentDefault>

    @Option(help: "Also time N forward passes and print the median (ms) on stderr, for benchmarks.")
    var timeRuns: Int?

    func validate() throws {
        guard !(randomInput && !inputs.files.isEmpty) else { throw ValidationError("give either --input files or --random-input, not both") }
    }

    func run() throws {
        let loaded = try ModelFile.load(model)
        if inputs.files.isEmpty && !randomInput && !loaded.graph.runtimeInputs.isEmpty {
            throw ValidationError("give either --input files or --random-input (the model has inputs \(loaded.graph.runtimeInputs.map(\.name).joined(separator: ", ")))")
        }
        var files = CommandFiles()
        files.reads(model: model, externalData: loaded.externalData, as: "MODEL")
        try inputs.record(in: &files, for: loaded.graph)
        let feeds = randomInput ? try inputs.randomSamples(1, for: loaded.graph)[0] : try inputs.loadFiles(for: loaded.graph)
        let interpreter = try Interpreter(graph: loaded.graph, precision: interpreterOptions.interpreterPrecision, threads: interpreterOptions.threads)
        let outputs = try interpreter.run(feeds)
        if let timeRuns, timeRuns > 0 {
            var times: [Double] = []
            for _ in 0..<timeRuns {
                let start = DispatchTime.now().uptimeNanoseconds
                _ = try interpreter.run(feeds)
                times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
            }
            let median = times.sorted()[times.count / 2]
            FileHandle.standardError.write(Data("forward median: \(String(format: "%.3f", median)) ms over \(timeRuns) runs\n".utf8))
        }
        try Self.makeDirectory(outputDir)
        // Every file is written before any is moved into place: a failure leaves nothing.
        var pending: [(name: String, tensor: Tensor, file: PendingFile)] = []
        for output in loaded.graph.outputs {
            guard let tensor = outputs[output.name] else { continue }
            var path = PathText.join(outputDir, Self.fileName(for: output.name))
            var suffix = 2
            while files.isWritten(path) {
                path = PathText.join(outputDir, Self.fileName(for: output.name, suffix: suffix))
                suffix += 1
            }
            try files.writes(path, as: "the output file of '\(output.name)'")
            let file = try PendingFile(destination: path)
            try file.write(try NumPyFile.encode(tensor, name: path))
            pending.append((output.name, tensor, file))
        }
        for entry in pending {
            try entry.file.commit()
            FileHandle.standardError.write(Data("\(entry.name): \(entry.tensor.elementType)\(entry.tensor.shape) → \(entry.file.destination)\n".utf8))
        }
    }

    /// Creates --output-dir (and its parents) or says in a sentence why it cannot be.
    private static func makeDirectory(_ path: String) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else {
                throw CommandError.outputDirectoryIsAFile(path: path)
            }
            guard access(path, W_OK) == 0 else {
                throw CommandError.outputDirectoryNotWritable(path: path)
            }
            return
        }
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw CommandError.cannotCreateOutputDirectory(path: path, reason: String(cString: strerror(errno)))
        }
    }

    /// Output names like "/head/Gemm_output_0" become "head_Gemm_output_0.npy".
    static func fileName(for name: String, suffix: Int? = nil) -> String {
        let safe = name.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." ? $0 : "_" }
        let trimmed = String(safe).trimmingCharacters(in: CharacterSet(charactersIn: "_."))
        return (trimmed.isEmpty ? "output" : trimmed) + (suffix.map { "-\($0)" } ?? "") + ".npy"
    }
}
