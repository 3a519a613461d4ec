import ArgumentParser
import GhostInterpreter
import GhostIR
import GhostVerify

/// How a command gets its inputs: .npy files, or seeded N(0,1) samples of the declared shapes.
struct InputOptions: ParsableArguments {
    @Option(name: .customLong("input"), help: "An input as .npy: PATH, or NAME=PATH (repeatable).")
    var files: [String] = []

    @Option(help: "Seed of random inputs.")
    var seed: UInt64 = 0

    @Option(name: .customLong("shape"), help: "Shape of an input with symbolic dimensions: NAME=1x3x224x224 (repeatable).")
    var shapes: [String] = []

    /// The --input files bound to the graph's inputs.
    func loadFiles(for graph: Graph) throws -> [String: Tensor] {
        try InputArrays.load(files, for: graph)
    }

    /// Records the --input files among the files a command reads.
    func record(in files: inout CommandFiles, for graph: Graph) throws {
        for (name, path) in try InputArrays.bindings(self.files, for: graph) { files.reads(path, as: "--input \(name)") }
    }

    @Option(help: "Most memory one sample's random inputs may take: bytes, or with K, M, G (default: a quarter of RAM).")
    var maxMemory: String?

    /// The --shape bindings by input name.
    func shapeBindings() throws -> [String: [Int]] {
        var bindings: [String: [Int]] = [:]
        for argument in shapes {
            let (name, shape) = try InputArrays.parseShape(argument)
            bindings[name] = shape
        }
        return bindings
    }

    /// --max-memory in bytes.
    func memoryBudget() throws -> Int {
        guard let maxMemory else { return RandomInputs.defaultMemoryBudget }
        let units: [Character: Int] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40]
        var digits = Substring(maxMemory.uppercased())
        var unit = 1
        if let last = digits.last, let scale = units[last] { unit = scale; digits = digits.dropLast() }
        guard let value = Int(digits), value > 0 else {
            throw ValidationError("--max-memory \(maxMemory): expected a positive number of bytes, optionally with K, M, G or T")
        }
        let (bytes, overflow) = value.multipliedReportingOverflow(by: unit)
        return overflow ? Int.max : bytes
    }

    /// `count` random samples, seeded, symbolic dimensions bound by --shape.
    func randomSamples(_ count: Int, for graph: Graph) throws -> [[String: Tensor]] {
        let bindings = try shapeBindings(), budget = try memoryBudget()
        var random = RandomInputs(seed: seed)
        return try (0..<count).map { _ in try random.sample(for: graph, shapes: bindings, memoryBudget: budget) }
    }
}

/// The default arithmetic of a command's interpreter.
protocol PrecisionDefault {
    static var precision: InterpreterPrecision { get }
    static var help: String { get }
}

/// `verify` and `gate`: float64, so that a correct fusion is not failed by float32 rounding noise,
/// which reaches 1.3e-5 on ShuffleNetV2 between two correct graphs (docs/verify.md).
enum EquivalenceDefault: PrecisionDefault {
    static let precision = InterpreterPrecision.f64
    static let help = "Arithmetic of the interpreter: f64 (isolates the fusion's own error from float32 rounding noise) or f32 (what a float32 deployment sees)."
}

/// `run`: float32, as a deployment computes and as the ONNX Runtime goldens (output.npy) were made.
enum DeploymentDefault: PrecisionDefault {
    static let precision = InterpreterPrecision.f32
    static let help = "Arithmetic of the interpreter: f32 (as deployed, comparable with ONNX Runtime) or f64."
}

/// How the reference interpreter computes; the default precision depends on the command.
struct InterpreterOptionsOf<Default: PrecisionDefault>: ParsableArguments {
    @Option(help: ArgumentHelp(Default.help))
    var precision: InterpreterPrecision = Default.precision

    @Option(help: "Threads for the interpreter's matrix products: the float32 packed GEMM splits large products (same bits whatever the count), OpenBLAS gets the rest.")
    var threads = 1

    var interpreterPrecision: Precision { precision == .f64 ? .float64 : .float32 }

    func validate() throws {
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
    }
}

/// `verify`'s options (default f64).
typealias InterpreterOptions = InterpreterOptionsOf<EquivalenceDefault>

enum InterpreterPrecision: String, ExpressibleByArgument, CaseIterable {
    case f32, f64
}
