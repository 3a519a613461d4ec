import ArgumentParser
import Foundation
import GhostGate

struct GateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gate",
        abstract: "Fuse and verify every .onnx model under the given paths: a CI gate for a model zoo.",
        discussion: """
            Finds every .onnx file under PATH… (recursively, sorted; --exclude GLOB leaves some \
            out), and for each one: fuses it with the default pipeline in memory, verifies the \
            fused graph against the original (as `verify` does, f64 by default) and reports. Each \
            model runs in its own worker process, --jobs at a time, so a model that crashes costs \
            only its own record (worker-crashed).

            --shard K/N keeps the models whose path relative to its PATH hashes (FNV-1a 64) to \
            K − 1 modulo N: N CI jobs given the same tree cover every model exactly once. \
            --output-dir writes each equivalent model's fused form (--format gwt, onnx or both) \
            keeping the relative layout, atomically; models that fail leave nothing there.

            Reports: one line per model on stderr; --junit (one testcase per model), --json (one \
            record per model; keys in docs/cli.md), and a Markdown table appended to \
            $GITHUB_STEP_SUMMARY when it is set.

            --intermediates also compares every value the original and fused graphs compute \
            under the same name, as `verify --intermediates` does (off by default: --outputs-only).

            --timeout SECONDS (default 600) stops a worker that takes longer for its model \
            (SIGTERM, then SIGKILL): that model is an error record [timeout] and the rest go on.

            Exit codes: 0 every model equivalent; 2 any model could not be checked (unreadable, \
            malformed, unsupported operator, symlink loop, crashed worker, timeout) or bad usage — this \
            wins over 3, and the summary still counts the not-equivalent ones; 3 any model not \
            equivalent; 1 internal error.

            Examples:
              ghost-convert gate Models/
              ghost-convert gate models/ --shard 2/3 --junit gate-2.xml --exclude '*_dynamo*'
              ghost-convert gate zoo/ --output-dir fused/ --format both --json gate.json
            """
    )

    enum FormatChoice: String, ExpressibleByArgument, CaseIterable {
        case gwt, onnx, both
    }

    @Argument(help: "Model files or directories to search for .onnx files.")
    var paths: [String]

    @Option(name: .customLong("exclude"), help: "Leave out paths matching this glob (relative path or file name; repeatable).")
    var excludes: [String] = []

    @Option(help: "Models checked at once, each in its own worker process (default: the core count).")
    var jobs: Int?

    @Option(help: "Check only part K of N of the models (1 ≤ K ≤ N), split by a hash of the relative path.")
    var shard: String?

    @OptionGroup var check: GateCheckOptions

    @Option(help: "Seconds one model's worker may take before it is stopped and the model fails with [timeout] (0: no limit).")
    var timeout: Double = Gate.defaultTimeout

    @Flag(help: "Stop starting models after the first one that fails; the rest are reported as skipped.")
    var failFast = false

    @Option(help: "Write each equivalent model's fused form here, keeping its layout relative to its PATH.")
    var outputDir: String?

    @Option(help: "What --output-dir gets: gwt (default), onnx or both.")
    var format: FormatChoice?

    @Option(help: "Write a JUnit XML report here.")
    var junit: String?

    @Option(help: "Write every record as JSON here (keys in docs/cli.md).")
    var json: String?

    @Flag(help: "No progress line, even on a terminal.")
    var quiet = false

    func validate() throws {
        if let shard { _ = try usage { try Shard(parsing: shard) } }
        if let jobs, jobs < 1 { throw ValidationError("--jobs must be at least 1") }
        if !(timeout >= 0) || timeout.isInfinite { throw ValidationError("--timeout must be a finite number of seconds, 0 or more") }
        try usage { try gateConfiguration().validate() }
    }

    func gateConfiguration() throws -> GateConfiguration {
        var configuration = try check.configuration()
        configuration.outputDirectory = outputDir
        if let format {
            configuration.formats = switch format {
            case .gwt: [.gwt]
            case .onnx: [.onnx]
            case .both: [.gwt, .onnx]
            }
        } else if outputDir != nil {
            configuration.formats = [.gwt]
        }
        configuration.tool = "ghost-convert \(GhostConvertVersion.string)"
        return configuration
    }

    func run() throws {
        let configuration = try gateConfiguration()
        let shard = try shard.map { text in try usage { try Shard(parsing: text) } } ?? .all
        let found = try usage { try ModelDiscovery.discover(paths, excluding: excludes) }
        guard !found.isEmpty else { throw ValidationError(GateUsageError.noModels(paths: paths).description) }
        let entries = found.filter { shard.contains(relativePath: $0.relativePath) }
        if outputDir != nil { try usage { try Self.refuseCollisions(entries) } }

        let gate = Gate(configuration: configuration, jobs: jobs ?? ProcessInfo.processInfo.activeProcessorCount,
                        failFast: failFast, workers: .processes(executable: Self.executable, arguments: ["gate-worker"]),
                        timeout: timeout > 0 ? timeout : nil)
        let display = GateDisplay(progress: Progress(label: "gate", quiet: quiet), criterion: GateSettings(configuration).criterion)
        if shard.count > 1 {
            FileHandle.standardError.write(Data("gate: shard \(shard) holds \(entries.count) of \(found.count) models\n".utf8))
        }
        let records = gate.run(entries) { display.show($0) }
        display.finish()

        let settings = GateSettings(configuration, shard: shard)
        if let junit { try JUnitReport.write(records, settings: settings, to: junit) }
        if let json { try JSONReport.write(records, to: json) }
        if let summary = ProcessInfo.processInfo.environment["GITHUB_STEP_SUMMARY"], !summary.isEmpty {
            try MarkdownSummary.append(records, settings: settings, to: summary)
        }
        FileHandle.standardError.write(Data("gate: \(records.count) model\(records.count == 1 ? "" : "s"): \(GateTally(records).sentence)\n".utf8))
        let code = GateExitCode.of(records)
        if code != ExitStatus.Code.success.rawValue { throw CommandVerdict.gate(code) }
    }

    /// Two models that would be written to the same place under --output-dir.
    static func refuseCollisions(_ entries: [ModelEntry]) throws(GateUsageError) {
        var seen: [String: String] = [:]
        for entry in entries where entry.problem == nil {
            if let other = seen[entry.relativePath] { throw .duplicateRelativePath(entry.relativePath, [other, entry.path]) }
            seen[entry.relativePath] = entry.path
        }
    }

    /// This executable, which serves as every worker (`gate-worker`).
    static var executable: URL {
        let link = "/proc/self/exe"
        if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: link) { return URL(fileURLWithPath: target) }
        return Bundle.main.executableURL ?? URL(fileURLWithPath: CommandLine.arguments[0])
    }
}

/// Bad arguments found by the library, as the parser's usage errors (exit 2).
private func usage<T>(_ body: () throws -> T) throws -> T {
    do { return try body() } catch let error as GateUsageError { throw ValidationError(error.description) }
}

/// One line per finished model on stderr, and the progress line on a terminal (done / total,
/// current models, elapsed, ETA). Called by the gate one report at a time.
private final class GateDisplay: @unchecked Sendable {
    private let progress: Progress
    private let criterion: String

    init(progress: Progress, criterion: String) {
        self.progress = progress
        self.criterion = criterion
    }

    func show(_ report: GateProgress) {
        if let record = report.finished {
            progress.finish()
            let mark = switch record.outcome {
            case .equivalent: "ok   "
            case .notEquivalent: "FAIL "
            case .error: "ERROR"
            case .skipped: "skip "
            }
            var line = "gate: [\(report.done)/\(report.total)] \(mark) \(record.path): \(record.headline(criterion: criterion))"
            line += String(format: " (%.1f s)", record.seconds)
            FileHandle.standardError.write(Data((line + "\n").utf8))
        }
        var status = "\(report.done)/\(report.total) done"
        if !report.running.isEmpty { status += ", checking \(report.running.joined(separator: ", "))" }
        if let eta = report.estimatedRemaining { status += String(format: ", ETA %.0f s", eta) }
        progress.update(status)
    }

    func finish() { progress.finish() }
}

/// One model, checked in this process; prints its record as one line of JSON. Started by `gate`.
struct GateWorker: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gate-worker", abstract: "Check one model for `gate` (internal).", shouldDisplay: false)

    @Option var configuration: String
    @Option var entry: String

    func run() throws {
        print(try WorkerProcess.serve(configuration: configuration, entry: entry))
    }
}
