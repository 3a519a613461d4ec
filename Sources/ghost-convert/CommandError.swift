import Foundation
import GhostIR

/// Failures of the commands themselves (not of a module they call), with stable codes like every
/// other error; `ExitStatus` turns them into exit 2, or exit 1 for the internal ones.
enum CommandError: CodedError, Equatable {
    /// `run --output-dir` names an existing file.
    case outputDirectoryIsAFile(path: String)
    case outputDirectoryNotWritable(path: String)
    case cannotCreateOutputDirectory(path: String, reason: String)
    /// `graph --format svg` without Graphviz installed.
    case graphvizMissing
    /// Graphviz was found but failed (exit 1: the DOT text is ours).
    case graphvizFailed(reason: String)

    var code: String {
        switch self {
        case .outputDirectoryIsAFile: "output-dir-not-a-directory"
        case .outputDirectoryNotWritable, .cannotCreateOutputDirectory: "output-not-creatable"
        case .graphvizMissing: "graphviz-missing"
        case .graphvizFailed: "dot-failed"
        }
    }

    var errorDescription: String? {
        switch self {
        case .outputDirectoryIsAFile(let path): "--output-dir '\(path)' is a file, not a directory"
        case .outputDirectoryNotWritable(let path): "--output-dir '\(path)' is not writable"
        case .cannotCreateOutputDirectory(let path, let reason): "cannot create --output-dir '\(path)': \(reason)"
        case .graphvizMissing: "SVG output needs Graphviz's `dot`, which is not installed (apt-get install graphviz), or use --format dot"
        case .graphvizFailed(let reason): "Graphviz's dot failed on the DOT text: \(reason)"
        }
    }
}
