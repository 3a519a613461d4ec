import Foundation

/// The error vocabulary every module shares: each module's error enum conforms, so a caller (the
/// CLI's exit codes, `--report` error fields, the conformance test) reads one definition.
///
/// - `code`: stable and kebab-case (`raw-data-size-mismatch`, `unsupported-operator`); scripts
///   and documentation rely on it, so it never changes meaning.
/// - `errorDescription`: a sentence a user can act on, naming the place (file, byte offset,
///   node, tensor, attribute).
public protocol CodedError: LocalizedError {
    var code: String { get }
}
