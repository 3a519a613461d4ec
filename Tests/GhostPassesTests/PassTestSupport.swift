import GhostIR
@testable import GhostPasses
import Testing

/// Runs one pass, checking the graph stays well formed.
func runPass(_ pass: any GraphPass, _ graph: Graph) throws -> (Graph, PassLog) {
    var graph = graph
    var log = PassLog()
    try pass.run(on: &graph, log: &log)
    #expect(GraphVerifier.defects(in: graph).isEmpty, "\(pass.name) broke the graph")
    return (graph, log)
}

/// Runs the default pipeline.
func fuse(_ graph: Graph, disabling: [String] = []) throws -> PipelineResult {
    try PassPipeline.default.disabling(disabling).run(graph)
}

extension PipelineResult {
    func report(_ pass: String) -> PassReport? { reports.first { $0.pass == pass } }
}
