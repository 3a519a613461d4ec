import GhostIR

extension OperatorRegistry {
    static let reductions = OperatorFamily(title: "Reductions, arg-reductions and sorting", operators: [
    ])
}
