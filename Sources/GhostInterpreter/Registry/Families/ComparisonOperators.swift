import GhostIR

extension OperatorRegistry {
    static let comparison = OperatorFamily(title: "Comparison, logic and selection", operators: [
    ])
}
