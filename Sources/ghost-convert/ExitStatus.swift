import ArgumentParser
import Foundation
import GhostGWT
import GhostIR
import GhostInterpreter
import GhostNumPy
import GhostONNX
import GhostPasses
import GhostVerify

/// The one place that turns an outcome into an exit code and a message:
/// 0 success, 2 bad input or usage, 3 not equivalent, 1 internal error.
struct ExitStatus {
    let code: Int32
    let message: String?

    static let success: Int32 = 0
    static let internalError: Int32 = 1
    static let badInput: Int32 = 2
    static let notEquivalent: Int32 = 3

    init(for error: Error) {
        switch error {
        case InterpreterError.blasUnavailable(let reason):
            // The machine lacks a library: not the user's input.
            self.init(code: ExitStatus.internalError, message: "error: \(reason) [blas-unavailable]")
        case let error as CodedError:
            // A problem with what the user gave us: the sentence, then the stable code.
            self.init(code: ExitStatus.badInput, message: "error: \(error.localizedDescription) [\(error.code)]")
        case let error as ONNXWriteError:
            self.init(code: ExitStatus.badInput, message: "error: \(error.localizedDescription)")
        case let error as FileMappingError:
            self.init(code: ExitStatus.badInput, message: "error: cannot read the file: \(error)")
        case let error as FileOutputError:
            self.init(code: ExitStatus.badInput, message: "error: \(error.localizedDescription)")
        case let error as PassError:
            if case .unknownPass = error {
                self.init(code: ExitStatus.badInput, message: "error: \(error)")
            } else {
                self.init(code: ExitStatus.internalError, message: "internal error: \(error)")
            }
        case let error as CommandFailure:
            self.init(code: error.exitCode, message: error.message.isEmpty ? nil : error.message)
        default:
            // Help, version and usage errors from the argument parser.
            let parserCode = GhostConvert.exitCode(for: error).rawValue
            let message = GhostConvert.fullMessage(for: error)
            if parserCode == 0 {
                self.init(code: ExitStatus.success, message: nil)
                print(message)
            } else if error is ValidationError || parserCode == ExitCode.validationFailure.rawValue {
                self.init(code: ExitStatus.badInput, message: message)
            } else {
                self.init(code: ExitStatus.internalError, message: "internal error: \(message)")
            }
        }
    }

    private init(code: Int32, message: String?) {
        self.code = code
        self.message = message
    }
}

/// A command's own failure with a chosen exit code (e.g. 3 for "not equivalent").
struct CommandFailure: Error {
    let exitCode: Int32
    let message: String
}
