import Foundation

/// A structural defect in a graph, found by `GraphVerifier` or `Graph.topologicalOrder()`.
public enum GraphValidationError: Error, Equatable, Sendable {
    /// `value` is defined by more than one of: graph inputs, initializers, node outputs.
    case duplicateDefinition(value: String, definedBy: [String])
    /// `node` reads `value`, which nothing defines.
    case undefinedInput(node: String, value: String)
    /// The graph output `value` is neither an input, an initializer nor a node output.
    case undefinedOutput(value: String)
    /// The listed nodes depend on each other in a loop.
    case cycle(nodes: [String])
    /// A declared type disagrees with what the graph holds.
    case typeMismatch(value: String, declared: String, actual: String)

    /// A stable identifier for the kind of defect, used by tests, reports and the CLI.
    public var code: String {
        switch self {
        case .duplicateDefinition: "duplicate-value"
        case .undefinedInput: "undefined-input"
        case .undefinedOutput: "undefined-output"
        case .cycle: "cycle"
        case .typeMismatch: "type-mismatch"
        }
    }
}

extension GraphValidationError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .duplicateDefinition(let value, let definers):
            "value '\(value)' is defined more than once (by \(definers.joined(separator: ", ")))"
        case .undefinedInput(let node, let value):
            "node '\(node)' reads '\(value)', which no input, initializer or node defines"
        case .undefinedOutput(let value):
            "graph output '\(value)' is not produced by any node, input or initializer"
        case .cycle(let nodes):
            "nodes form a cycle: \(nodes.map { "'\($0)'" }.joined(separator: " -> "))"
        case .typeMismatch(let value, let declared, let actual):
            "value '\(value)' is declared as \(declared) but holds \(actual)"
        }
    }
}

extension GraphValidationError: CodedError {
    public var errorDescription: String? { description }
}
