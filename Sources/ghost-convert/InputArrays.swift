import ArgumentParser
import GhostIR
import GhostNumPy

/// `--input` and `--shape` values: .npy files bound to graph inputs, and shapes for symbolic inputs.
enum InputArrays {
    /// Loads `PATH` (for a graph with one input) or `NAME=PATH` arguments; every runtime input must
    /// be given exactly once.
    static func load(_ arguments: [String], for graph: Graph) throws -> [String: Tensor] {
        let names = graph.runtimeInputs.map(\.name)
        var feeds: [String: Tensor] = [:]
        for (name, path) in try bindings(arguments, for: graph) {
            guard feeds[name] == nil else { throw ValidationError("--input gives '\(name)' twice") }
            feeds[name] = try NumPyFile.read(path: path)
        }
        for name in names where feeds[name] == nil {
            throw ValidationError("no --input for graph input '\(name)' (inputs: \(names.joined(separator: ", ")))")
        }
        return feeds
    }

    /// The (input name, file) pairs the arguments give, in order.
    static func bindings(_ arguments: [String], for graph: Graph) throws -> [(name: String, path: String)] {
        let names = graph.runtimeInputs.map(\.name)
        var result: [(name: String, path: String)] = []
        for argument in arguments {
            let name: String, path: String
            if let equals = argument.firstIndex(of: "="), names.contains(String(argument[..<equals])) {
                name = String(argument[..<equals])
                path = String(argument[argument.index(after: equals)...])
            } else if names.count == 1 {
                (name, path) = (names[0], argument)
            } else {
                throw ValidationError("--input \(argument): the graph has inputs \(names.joined(separator: ", ")); write NAME=PATH")
            }
            result.append((name, path))
        }
        return result
    }

    /// `NAME=1x3x224x224` → ("NAME", [1, 3, 224, 224]).
    static func parseShape(_ argument: String) throws -> (String, [Int]) {
        guard let equals = argument.lastIndex(of: "=") else { throw ValidationError("--shape \(argument): expected NAME=1x3x224x224") }
        let sizes = argument[argument.index(after: equals)...].split(separator: "x").map { Int($0) }
        guard !sizes.isEmpty, sizes.allSatisfy({ ($0 ?? -1) >= 0 }) else {
            throw ValidationError("--shape \(argument): sizes must be non-negative integers separated by x")
        }
        return (String(argument[..<equals]), sizes.compactMap { $0 })
    }
}
