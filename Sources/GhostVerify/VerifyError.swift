import Foundation
import GhostIR

/// Why two graphs could not be compared (exit 2: the inputs to `verify` are wrong), or why running
/// one failed.
public enum VerifyError: Error, Equatable, Sendable {
    case inputsDiffer(original: [String], fused: [String])
    case outputsDiffer(original: [String], fused: [String])
    case inputShapeDiffers(input: String, original: String, fused: String)
    case unboundShape(input: String, dimension: String)
    case unsupportedInputType(input: String, type: String)
    case missingInput(name: String)
    case unknownInput(name: String, known: [String])
    case outputShapeDiffers(output: String, original: [Int], fused: [Int])
    /// The interpreter failed on one of the graphs.
    case execution(graph: String, message: String)
    /// The interpreter refused one of the graphs with its own typed error (`code`, e.g.
    /// `unsupported-operator`), which is passed on.
    case cannotRun(graph: String, code: String, message: String)
    /// The graphs have no outputs: nothing would be compared.
    case noOutputs
    /// A `--compare` value that one of the graphs does not compute.
    case unknownValue(name: String, graph: String)
    /// Random samples of this input's shape would exceed the element limit or the memory budget.
    case inputTooLarge(input: String, shape: [Int], reason: String)

    public var code: String {
        switch self {
        case .inputsDiffer: "inputs-differ"
        case .outputsDiffer: "outputs-differ"
        case .inputShapeDiffers: "input-shape-differs"
        case .unboundShape: "unbound-shape"
        case .unsupportedInputType: "unsupported-input-type"
        case .missingInput: "missing-input"
        case .unknownInput: "unknown-input"
        case .outputShapeDiffers: "output-shape-differs"
        case .execution: "execution-failed"
        case .cannotRun(_, let code, _): code
        case .noOutputs: "no-outputs"
        case .inputTooLarge: "input-too-large"
        case .unknownValue: "unknown-value"
        }
    }
}

extension VerifyError: CodedError {
    public var errorDescription: String? {
        switch self {
        case .inputsDiffer(let original, let fused):
            "the graphs take different inputs: original \(original), fused \(fused)"
        case .outputsDiffer(let original, let fused):
            "the graphs produce different outputs: original \(original), fused \(fused)"
        case .inputShapeDiffers(let input, let original, let fused):
            "input '\(input)' is declared \(original) in the original and \(fused) in the fused graph"
        case .unboundShape(let input, let dimension):
            "input '\(input)' has \(dimension) of no fixed size; give its shape with --shape \(input)=1x3x224x224 or feed it with --input"
        case .unsupportedInputType(let input, let type):
            "input '\(input)' is \(type); random samples are drawn only for float and double inputs, feed it with --input"
        case .missingInput(let name):
            "no value given for input '\(name)'"
        case .unknownInput(let name, let known):
            "'\(name)' is not an input of the graph; its inputs are \(known.joined(separator: ", "))"
        case .outputShapeDiffers(let output, let original, let fused):
            "output '\(output)' has shape \(original) in the original and \(fused) in the fused graph"
        case .execution(let graph, let message):
            "running the \(graph) graph failed: \(message)"
        case .cannotRun(let graph, _, let message):
            "the \(graph) graph cannot be run: \(message)"
        case .noOutputs:
            "the graphs have no outputs, so there is nothing to compare"
        case .unknownValue(let name, let graph):
            "the \(graph) graph has no value named '\(name)' to compare (a fused node keeps the name of the last node it replaces; `ghost-convert inspect --json` lists the values)"
        case .inputTooLarge(let input, let shape, let reason):
            "random samples of input '\(input)' with shape \(shape) cannot be drawn: \(reason); give smaller --shape values or --input files"
        }
    }
}
