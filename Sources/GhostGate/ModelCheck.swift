import Foundation
import GhostGWT
import GhostIR
import GhostInterpreter
import GhostONNX
import GhostPasses
import GhostVerify

/// Checks one model in this process: load, fuse with the default pipeline (in memory), verify
/// the fused graph against the original, and, if equivalent and asked for, write the fused model
/// under the output directory. Every failure becomes the record's typed error; nothing throws.
public enum ModelCheck {
    /// - Parameter pipeline: the fusion to check (the default pipeline unless a caller — a test,
    ///   a tool with its own passes — gives another).
    public static func run(_ entry: ModelEntry, configuration: GateConfiguration, pipeline: PassPipeline = .default) -> GateRecord {
        let start = ContinuousClock.now
        var record = GateRecord(entry: entry, outcome: .error)
        do {
            try check(entry, configuration: configuration, pipeline: pipeline, into: &record)
        } catch {
            record.outcome = .error
            record.error = error
        }
        record.seconds = seconds(since: start)
        return record
    }

    private static func check(_ entry: ModelEntry, configuration: GateConfiguration, pipeline: PassPipeline,
                              into record: inout GateRecord) throws(GateError) {
        if let problem = entry.problem { throw problem }
        let graph = try attempt { try ONNXModelLoader.load(path: entry.path).graph }
        let result = try attempt { try pipeline.run(graph) }
        record.nodes = .init(before: graph.nodes.count, after: result.graph.nodes.count)
        record.passes = result.reports.map { .init(pass: $0.pass, rewrites: $0.rewrites.count) }

        let inputs = try attempt { try samples(for: graph, configuration: configuration) }
        let capture = FirstError()
        let executor = ReusingExecutor(precision: configuration.arithmetic.precision, threads: configuration.threads, capture: capture)
        let verifier = Verifier(executor: executor, tolerance: .relative(configuration.tolerance),
                                checksIntermediates: configuration.intermediates)
        let verdict: VerificationResult
        do {
            verdict = try verifier.verify(original: ReusingExecutor.tag(graph, as: .original),
                                          fused: ReusingExecutor.tag(result.graph, as: .fused), samples: inputs)
        } catch {
            // The verifier wraps interpreter failures in `execution-failed`; the interpreter's own
            // code (`unsupported-operator`, …) is what a user can act on.
            if case .execution = error, let underlying = capture.error { throw underlying }
            throw GateError(error)
        }
        record.outputs = figures(verdict, outputs: graph.outputs.map(\.name))
        record.worstRelativeError = verdict.worstRelativeError
        record.intermediates = verdict.intermediates.map(GateRecord.IntermediateFigures.init)
        if let divergence = verdict.firstDivergence {
            record.firstDivergence = .init(divergence)
        }
        guard verdict.equivalent else {
            record.outcome = .notEquivalent
            return
        }
        if let directory = configuration.outputDirectory {
            record.written = try write(result, source: entry, formats: configuration.formats, directory: directory, tool: configuration.tool)
        }
        record.outcome = .equivalent
    }

    /// `samples` seeded N(0, 1) inputs; `shapes` gives whole input shapes by name, and any other
    /// symbolic or unknown dimension is 1 (in exported CNNs that is the batch).
    static func samples(for graph: Graph, configuration: GateConfiguration) throws -> [[String: Tensor]] {
        var shapes = configuration.shapes.filter { name, _ in graph.runtimeInputs.contains { $0.name == name } }
        for input in graph.runtimeInputs where shapes[input.name] == nil {
            guard let declared = input.shape else { continue }  // unknown rank: the sampler names it
            shapes[input.name] = declared.map { $0.fixedValue ?? 1 }
        }
        var random = RandomInputs(seed: configuration.seed)
        return try (0..<configuration.samples).map { _ in try random.sample(for: graph, shapes: shapes) }
    }

    static func figures(_ verdict: VerificationResult, outputs: [String]) -> [GateRecord.OutputFigures] {
        outputs.map { name in
            let results = verdict.samples.flatMap(\.outputs).filter { $0.output == name }
            return GateRecord.OutputFigures(
                output: name,
                relativeError: results.map(\.comparison.relativeError).max() ?? 0,
                maxAbsoluteError: results.map(\.comparison.maxAbsoluteError).max() ?? 0,
                passed: results.allSatisfy(\.passed))
        }
    }

    /// Writes each format atomically beside the others (`a/b/model.onnx` → `DIR/a/b/model.gwt`);
    /// a failure removes what this model already wrote, so no model is left half there.
    static func write(_ result: PipelineResult, source: ModelEntry, formats: [GateConfiguration.Format],
                      directory: String, tool: String) throws(GateError) -> [String] {
        let stem = (source.relativePath as NSString).deletingPathExtension
        var written: [String] = []
        do {
            for format in formats {
                let destination = PathText.join(directory, stem + "." + format.rawValue)
                try refuseOverwriting(source: source.path, destination: destination)
                try attempt {
                    try FileManager.default.createDirectory(atPath: PathText.directory(of: destination),
                                                            withIntermediateDirectories: true)
                }
                switch format {
                case .gwt:
                    let digest = try attempt { try FileDigest.sha256(path: source.path) }
                    let metadata = GWTMetadata(
                        tool: tool, sourceSha256: digest, sourceFile: PathText.name(of: source.path),
                        passes: result.reports.map { GWTMetadata.PassCount(name: $0.pass, rewrites: $0.rewrites.count) })
                    try attempt { try GWTWriter.write(result.graph, metadata: metadata, to: destination) }
                case .onnx:
                    try attempt { try ONNXWriter.write(result.graph, to: destination) }
                }
                written.append(destination)
            }
        } catch {
            for path in written { unlink(path) }
            throw error
        }
        return written
    }

    static func refuseOverwriting(source: String, destination: String) throws(GateError) {
        var a = stat(), b = stat()
        guard stat(source, &a) == 0, stat(destination, &b) == 0 else { return }
        if a.st_dev == b.st_dev, a.st_ino == b.st_ino {
            throw GateError(code: "output-is-input", message: "\(destination): writing there would replace the model being checked")
        }
    }

    static func seconds(since start: ContinuousClock.Instant) -> Double {
        let (whole, fraction) = (ContinuousClock.now - start).components
        return Double(whole) + Double(fraction) / 1e18
    }

    private static func attempt<T>(_ body: () throws -> T) throws(GateError) -> T {
        do { return try body() } catch { throw GateError(error) }
    }
}

extension GateError {
    /// The typed code of any error the pipeline can raise.
    public init(_ error: any Error) {
        switch error {
        case let error as GateError: self = error
        case let error as CodedError: self.init(code: error.code, message: error.localizedDescription)
        case let error as PassError:
            let code = switch error {
            case .brokeGraph: "pass-broke-graph"
            case .invalidTensor: "pass-invalid-tensor"
            case .unknownPass: "unknown-pass"
            }
            self.init(code: code, message: "\(error)")
        case let error as ONNXWriteError: self.init(code: "write-failed", message: error.localizedDescription)
        case let error as FileOutputError: self.init(code: "write-failed", message: error.localizedDescription)
        case let error as FileMappingError: self.init(code: "file-unreadable", message: "cannot read the file: \(error.reason)")
        default: self.init(code: "internal-error", message: "\(error.localizedDescription) (\(String(reflecting: type(of: error))))")
        }
    }
}

/// Remembers the first typed error the interpreter raised, which the verifier flattens to text.
final class FirstError: @unchecked Sendable {
    private let lock = NSLock()
    private var first: GateError?

    var error: GateError? { lock.withLock { first } }

    func record(_ error: any Error) {
        guard let coded = error as? CodedError else { return }
        lock.withLock { if first == nil { first = GateError(code: coded.code, message: coded.localizedDescription) } }
    }
}

/// Runs the verifier's graphs with one interpreter per graph, made on first use and kept for
/// every sample and the localization run: making an interpreter (widening and packing every
/// weight) costs several forward passes on a large net (~0.25 s against 64 ms for GhostNet 1.0 at
/// 224², f64), and the verifier asks for 2 × samples runs or more. The two graphs are told apart
/// by a tag in their name, set on the copies handed to the verifier only; any other graph gets a
/// fresh interpreter. Typed interpreter errors are remembered for the record.
final class ReusingExecutor: GraphExecutor, @unchecked Sendable {
    enum Role: String { case original, fused }

    private static let prefix = "\u{1}ghost-gate:"
    private let precision: Precision
    private let threads: Int
    private let capture: FirstError
    private let lock = NSLock()
    private var interpreters: [String: Interpreter] = [:]

    init(precision: Precision, threads: Int, capture: FirstError) {
        self.precision = precision
        self.threads = threads
        self.capture = capture
    }

    static func tag(_ graph: Graph, as role: Role) -> Graph {
        var copy = graph
        copy.name = prefix + role.rawValue
        return copy
    }

    func execute(_ graph: Graph, inputs: [String: Tensor], intermediates: Bool) throws -> [String: Tensor] {
        do {
            return try interpreter(for: graph).run(inputs, keepingIntermediates: intermediates)
        } catch {
            capture.record(error)
            throw error
        }
    }

    func observe(_ graph: Graph, inputs: [String: Tensor], keeping: Set<String>, summarizer: ValueSummarizer) throws -> ObservedRun {
        do {
            return try interpreter(for: graph).observe(inputs, keeping: keeping, summarizer: summarizer)
        } catch {
            capture.record(error)
            throw error
        }
    }

    private func interpreter(for graph: Graph) throws -> Interpreter {
        guard graph.name.hasPrefix(Self.prefix) else { return try Interpreter(graph: graph, precision: precision, threads: threads) }
        if let made = lock.withLock({ interpreters[graph.name] }) { return made }
        let made = try Interpreter(graph: graph, precision: precision, threads: threads)
        lock.withLock { interpreters[graph.name] = made }
        return made
    }
}
