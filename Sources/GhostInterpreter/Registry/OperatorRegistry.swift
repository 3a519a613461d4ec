/// The interpreter's one operator table. The planner looks operators up here; docs/operators.md's
/// operator table is `markdownTable` (a test compares them), `ghost-convert operators` prints it,
/// and the conformance test reads `supportedOpTypes` to tell a case that should pass from one the
/// interpreter must refuse.
public enum OperatorRegistry {
    /// Families in the order docs/operators.md lists them.
    static let families: [OperatorFamily] = [
        convolution, resampling, normalization, activations, arithmetic, elementwiseMath, comparison,
        pooling, reductions, shapes, indexing, constants,
    ]

    private static let table: [String: OperatorDefinition] = {
        var table: [String: OperatorDefinition] = [:]
        for family in families {
            for definition in family.operators {
                precondition(table[definition.opType] == nil, "\(definition.opType) is listed twice in the operator table")
                table[definition.opType] = definition
            }
        }
        return table
    }()

    /// The row for an op type of the default domain (`""` or `ai.onnx`), or nil.
    static func definition(opType: String, domain: String) -> OperatorDefinition? {
        guard domain.isEmpty || domain == "ai.onnx" else { return nil }
        return table[opType]
    }

    /// Every supported op type, sorted.
    public static var supportedOpTypes: [String] { table.keys.sorted() }

    /// Op types by family, in table order: (family title, op types).
    public static var opTypesByFamily: [(family: String, opTypes: [String])] {
        families.filter { !$0.operators.isEmpty }.map { ($0.title, $0.operators.map(\.opType)) }
    }

    /// The operator section of docs/operators.md: a heading and a table per family; neighbouring
    /// operators with the same notes share a row.
    public static var markdownTable: String {
        var lines: [String] = []
        for family in families where !family.operators.isEmpty {
            lines.append("### \(family.title)")
            lines.append("")
            lines.append("| op | notes |")
            lines.append("|---|---|")
            var index = 0
            let operators = family.operators
            while index < operators.count {
                var end = index + 1
                while end < operators.count, operators[end].notes == operators[index].notes { end += 1 }
                let names = operators[index..<end].map(\.opType).joined(separator: ", ")
                lines.append("| \(names) | \(operators[index].notes) |")
                index = end
            }
            lines.append("")
        }
        return lines.joined(separator: "\n")
    }
}
