import ArgumentParser
import Foundation
import GhostGWT
import GhostIR
import GhostONNX
import GhostPasses

struct Fuse: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fold BatchNormalization into convolutions and merge parallel branches.",
        discussion: """
            Runs the fusion pipeline on an ONNX export and writes the fused model. The passes, \
            in order (names as used by --disable-pass and in reports):
              \(PassPipeline.default.passNames.joined(separator: "\n  "))

            --explain prints, per pass, how many sites were rewritten and every site that \
            matched but was not rewritten, with the reason. The output is written atomically; \
            on any error nothing is written.

            Examples:
              ghost-convert fuse repghostnet.onnx repghostnet.gwt --explain
              ghost-convert fuse repghostnet.onnx repghostnet-fused.onnx
              ghost-convert fuse net.onnx out.onnx --disable-pass merge-parallel-convs --report r.json
            """
    )

    @Argument(help: "The ONNX model to fuse.")
    var input: String

    @Argument(help: "Where to write the fused model: .gwt (deployable weight file) or .onnx.")
    var output: String

    @Flag(help: "Explain every pass: rewrites and the reasons sites were skipped (stderr).")
    var explain = false

    @Option(name: .customLong("disable-pass"), help: "Leave out a pass by name (repeatable).")
    var disabledPasses: [String] = []

    @Option(help: "Write a JSON report of the run to this path (keys in docs/cli.md).")
    var report: String?

    @Flag(help: "No progress line, even on a terminal.")
    var quiet = false

    @Flag(help: "Print how long loading, the passes (each pass, and the verifier after them) and writing took (stderr).")
    var timings = false

    func validate() throws {
        _ = try ModelFile.outputFormat(output)
    }

    func run() throws {
        let progress = Progress(label: "fuse", quiet: quiet)
        var timer = StepTimer(enabled: timings)
        let loaded = try ModelFile.load(input)
        timer.mark("load")
        var files = CommandFiles()
        files.reads(model: input, externalData: loaded.externalData, as: "MODEL")
        try ModelFile.recordWrites(of: output, as: "OUTPUT", in: &files)
        if let report { try files.writes(report, as: "--report") }
        // The report's temporary file is made before the model is written, so a report path that
        // cannot be written fails the command before any output exists.
        let reportFile = try report.map { try PendingFile(destination: $0) }
        // The source's SHA-256 (recorded in .gwt metadata) is computed on the other core while the
        // passes run. Every way out of this function waits for it: exiting while libcrypto is in
        // use on another thread would crash in its exit-time cleanup.
        let input = self.input
        let sourceDigest = BackgroundWork { try FileDigest.sha256(path: input) }
        defer { _ = try? sourceDigest.value() }
        progress.update("loaded \(loaded.graph.nodes.count) nodes; running the passes")
        let pipeline = try PassPipeline.default.disabling(disabledPasses)
        let result = try pipeline.run(loaded.graph)
        timer.mark("passes")
        timer.detail("passes", result.timings.map { ($0.step, $0.duration) })
        progress.update("writing \(output)")
        let summary = FuseReport(input: input, output: output, before: loaded.graph, result: result)
        let metadata = GWTMetadata(
            tool: "ghost-convert \(GhostConvertVersion.string)", sourceSha256: try sourceDigest.value(),
            sourceFile: PathText.name(of: input),
            passes: result.reports.map { GWTMetadata.PassCount(name: $0.pass, rewrites: $0.rewrites.count) })
        try ModelFile.write(result.graph, to: output, metadata: metadata)
        timer.mark("write")
        progress.finish()
        if explain {
            FileHandle.standardError.write(Data((summary.explanation + "\n").utf8))
        } else {
            let warnings = summary.missingPrerequisites.map { "warning: \($0)\n" }.joined()
            FileHandle.standardError.write(Data((warnings + summary.summaryLine + "\n").utf8))
        }
        if let reportFile { try ReportJSON.write(summary, into: reportFile) }
        timer.mark("report")
        timer.report()
        ExitWithoutRelease.keep(loaded, result, summary)
    }
}
