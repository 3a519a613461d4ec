import GhostIR

extension OperatorRegistry {
    static let indexing = OperatorFamily(title: "Indexing and generation", operators: [
    ])
}
