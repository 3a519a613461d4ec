import ArgumentParser
import Foundation

@main
struct GhostConvert: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ghost-convert",
        abstract: "Fuse re-parameterizable CNNs exported to ONNX, and prove the fused model is equivalent.",
        discussion: """
            ghost-convert reads ONNX exports of GhostNet, RepGhostNet, MobileNetV3, ShuffleNetV2 and \
            RepVGG-style networks, folds BatchNormalization into convolutions and merges parallel \
            branches into single kernels.

            Exit codes: 0 success, 2 bad input or usage, 3 not equivalent (verify, gate; mutate-check: a mutant missed), 1 internal error.

            Examples:
              ghost-convert fuse Models/repghostnet_100/model.onnx repghostnet.gwt --explain
              ghost-convert verify Models/repghostnet_100/model.onnx repghostnet.gwt --tolerance 1e-5
              ghost-convert gate Models/ --shard 1/3 --junit gate-1.xml
              ghost-convert inspect repghostnet.gwt
            """,
        version: GhostConvertVersion.string,
        subcommands: [Fuse.self, Verify.self, GateCommand.self, Inspect.self, Run.self, Convert.self, GraphCommand.self, Operators.self, MutateCheck.self, GateWorker.self]
    )

    /// Parses, runs, and maps every outcome to the documented exit codes in one place.
    static func main() {
        ProcessGuard.install()
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            let outcome = ExitStatus(for: error)
            if let message = outcome.message, !message.isEmpty {
                FileHandle.standardError.write(Data((message + "\n").utf8))
            }
            Foundation.exit(outcome.code.rawValue)
        }
    }
}

enum GhostConvertVersion {
    static let string = "0.1.0-dev"
}
