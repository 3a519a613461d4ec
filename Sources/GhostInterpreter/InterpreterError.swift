import Foundation
import GhostIR

/// Why the interpreter could not run a graph. Node-level cases name the node, its op and the
/// attribute or input at fault; unsupported features are errors, never silently wrong answers.
public enum InterpreterError: Error, Equatable, Sendable {
    case missingInput(name: String)
    case unknownInput(name: String, known: [String])
    case inputShapeMismatch(name: String, expected: String, actual: [Int])
    case inputTypeMismatch(name: String, expected: String, actual: String)
    case unsupportedOperator(node: String, op: String, domain: String)
    case unsupportedAttribute(node: String, op: String, attribute: String, value: String)
    case invalidNode(node: String, op: String, problem: String)
    /// A shape computed from the graph's data would need more than `limit` elements.
    case tensorTooLarge(node: String, op: String, shape: [Int], limit: Int)
    case graph(problem: String)
    /// OpenBLAS could not be loaded: a problem with this machine, not with the input.
    case blasUnavailable(reason: String)

    public var code: String {
        switch self {
        case .missingInput: "missing-input"
        case .unknownInput: "unknown-input"
        case .inputShapeMismatch: "input-shape-mismatch"
        case .inputTypeMismatch: "input-type-mismatch"
        case .unsupportedOperator: "unsupported-operator"
        case .unsupportedAttribute: "unsupported-attribute"
        case .invalidNode: "invalid-node"
        case .tensorTooLarge: "tensor-too-large"
        case .graph: "invalid-graph"
        case .blasUnavailable: "blas-unavailable"
        }
    }
}

extension InterpreterError: CodedError {
    public var errorDescription: String? {
        switch self {
        case .missingInput(let name): "no value was given for graph input '\(name)'"
        case .unknownInput(let name, let known): "'\(name)' is not a graph input (inputs: \(known.joined(separator: ", ")))"
        case .inputShapeMismatch(let name, let expected, let actual): "input '\(name)' should be \(expected) but has shape \(actual)"
        case .inputTypeMismatch(let name, let expected, let actual): "input '\(name)' should be \(expected) but is \(actual)"
        case .unsupportedOperator(let node, let op, let domain):
            "node '\(node)': operator \(domain.isEmpty ? "" : domain + "::")\(op) is not supported by the reference interpreter (docs/operators.md lists what is)"
        case .unsupportedAttribute(let node, let op, let attribute, let value):
            "node '\(node)' (\(op)): \(attribute) = \(value) is not supported"
        case .invalidNode(let node, let op, let problem): "node '\(node)' (\(op)): \(problem)"
        case .tensorTooLarge(let node, let op, let shape, let limit):
            "node '\(node)' (\(op)): a tensor of shape \(shape) would exceed the interpreter's limit of \(limit) elements"
        case .graph(let problem): "the graph cannot be run: \(problem)"
        case .blasUnavailable(let reason): reason
        }
    }
}
