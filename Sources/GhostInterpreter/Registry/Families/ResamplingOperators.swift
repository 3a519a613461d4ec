import GhostIR

extension OperatorRegistry {
    static let resampling = OperatorFamily(title: "Resampling", operators: [
    ])
}
