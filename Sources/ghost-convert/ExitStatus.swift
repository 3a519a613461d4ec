import ArgumentParser
import Foundation
import GhostIR
import GhostPasses

/// The one place that turns an outcome into an exit code and a message.
struct ExitStatus {
    /// ghost-convert's exit codes, as `--help` and docs/cli.md list them.
    enum Code: Int32 {
        case success = 0
        /// A bug of ours or a problem with this machine (a missing library), not the user's input.
        case internalError = 1
        /// Unreadable, malformed or unsupported input, or a bad command line.
        case badInput = 2
        /// `verify` or `gate` ran and found outputs that differ beyond the tolerance.
        case notEquivalent = 3
        // 128 + the signal: CProcessGuard's handlers exit with these after removing temporary
        // files (they are listed here so the table is complete; Swift code never returns them).
        case hangUp = 129
        case interrupted = 130
        case terminated = 143
    }

    let code: Code
    let message: String?

    /// Error codes that say the tool or the machine failed, whatever the input was: exit 1.
    static let internalCodes: Set<String> = [
        "blas-unavailable", "dot-failed", "report-encoding-failed", "pass-broke-graph", "pass-invalid-tensor", "internal-error",
    ]

    init(for error: Error) {
        switch error {
        case let verdict as CommandVerdict:
            // The verdict was printed by the command; only the code remains.
            self.init(verdict.code, message: nil)
        case let error as CodedError:
            self.init(code: error.code, sentence: error.localizedDescription)
        case let error as PassError:
            self.init(code: Self.code(of: error), sentence: error.description)
        case let error as EncodingError:
            // Reports go through ReportJSON; this catches any other encoder (the gate's). Our bug.
            self.init(code: "report-encoding-failed", sentence: "a report could not be encoded as JSON: \(ReportError.sentence(error))")
        default:
            // Help, version and usage errors from the argument parser.
            let parserCode = GhostConvert.exitCode(for: error).rawValue
            let message = GhostConvert.fullMessage(for: error)
            if parserCode == 0 {
                self.init(.success, message: nil)
                print(message)
            } else if error is ValidationError || parserCode == ArgumentParser.ExitCode.validationFailure.rawValue {
                self.init(.badInput, message: message)
            } else {
                // An uncoded error of ours: a bug. Its sentence and type name, never the parser's
                // dump of the value (`fullMessage` is `String(describing:)` for errors it does not know).
                self.init(code: "internal-error", sentence: "\(error.localizedDescription) (\(String(reflecting: type(of: error))))")
            }
        }
    }

    /// An error's sentence followed by its stable code; internal codes exit 1, the rest 2.
    private init(code: String, sentence: String) {
        if Self.internalCodes.contains(code) {
            self.init(.internalError, message: "internal error: \(sentence) [\(code)]")
        } else {
            self.init(.badInput, message: "error: \(sentence) [\(code)]")
        }
    }

    private init(_ code: Code, message: String?) {
        self.code = code
        self.message = message
    }

    static func code(of error: PassError) -> String {
        switch error {
        case .brokeGraph: "pass-broke-graph"
        case .invalidTensor: "pass-invalid-tensor"
        case .unknownPass: "unknown-pass"
        }
    }
}

/// How a command ends when it ran to completion but its verdict, already printed, is not success.
enum CommandVerdict: Error, Equatable {
    /// `verify`: the outputs differ beyond the tolerance.
    case notEquivalent
    /// `gate`: the code `GateExitCode` chose for the whole run (2 a model could not be checked,
    /// 3 a model is not equivalent).
    case gate(Int32)
    /// `mutate-check`: the code `MutationExitCode` chose (3 a mutant missed or a correct fusion
    /// failing, 2 a model could not be checked).
    case mutation(Int32)

    var code: ExitStatus.Code {
        switch self {
        case .notEquivalent: .notEquivalent
        case .gate(let raw), .mutation(let raw): ExitStatus.Code(rawValue: raw) ?? .internalError
        }
    }
}
