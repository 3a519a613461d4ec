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
            the output name, made safe for a file system).

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
        guard randomInput != !inputs.files.isEmpty else { throw ValidationError("give either --input files or --random-input") }
    }

    func run() throws {
        let loaded = try ModelFile.load(model)
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
        try FileManager.default.createDirectory(atPath: outputDir, withIntermediateDirectories: true)
        for output in loaded.graph.outputs {
            guard let tensor = outputs[output.name] else { continue }
            let path = (outputDir as NSString).appendingPathComponent(Self.fileName(for: output.name))
            try NumPyFile.write(tensor, to: path)
            FileHandle.standardError.write(Data("\(output.name): \(tensor.elementType)\(tensor.shape) → \(path)\n".utf8))
        }
    }

    /// Output names like "/head/Gemm_output_0" become "head_Gemm_output_0.npy".
    static func fileName(for name: String) -> String {
        let safe = name.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." ? $0 : "_" }
        let trimmed = String(safe).trimmingCharacters(in: CharacterSet(charactersIn: "_."))
        return (trimmed.isEmpty ? "output" : trimmed) + ".npy"
    }
}
