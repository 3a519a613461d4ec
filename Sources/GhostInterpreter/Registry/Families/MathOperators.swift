import GhostIR

extension OperatorRegistry {
    static let elementwiseMath = OperatorFamily(title: "Elementwise math", operators: [
    ])
}
