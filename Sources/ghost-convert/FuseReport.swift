import GhostIR
import GhostPasses

/// What `fuse` tells the user: a summary line, the --explain text, and the --report JSON.
struct FuseReport: Codable {
    struct Counts: Codable {
        var nodes: Int
        var batchNormalization: Int
        var conv: Int
        var add: Int

        /// One sweep, each node read in place: a filtered copy of the list per operator retained
        /// and released every node (a tenth of a second at 200k nodes).
        init(_ graph: Graph) {
            let list = graph.nodes
            nodes = list.count
            (batchNormalization, conv, add) = (0, 0, 0)
            for position in list.indices {
                if list[position].isONNX("Conv") {
                    conv += 1
                } else if list[position].isONNX("BatchNormalization") {
                    batchNormalization += 1
                } else if list[position].isONNX("Add") {
                    add += 1
                }
            }
        }
    }

    var input: String
    var output: String
    var before: Counts
    var after: Counts
    var rounds: Int
    var passes: [PassReport]
    /// Passes that ran without a pass they require (`--disable-pass` of a prerequisite).
    var missingPrerequisites: [MissingPrerequisite]

    init(input: String, output: String, before: Graph, result: PipelineResult) {
        self.input = input
        self.output = output
        self.before = Counts(before)
        after = Counts(result.graph)
        rounds = result.rounds
        passes = result.reports
        missingPrerequisites = result.missingPrerequisites
    }

    var summaryLine: String {
        "fused \(input) → \(output): nodes \(before.nodes) → \(after.nodes), "
            + "BatchNormalization \(before.batchNormalization) → \(after.batchNormalization), "
            + "Conv \(before.conv) → \(after.conv), Add \(before.add) → \(after.add)"
    }

    var explanation: String {
        var lines: [String] = []
        for pass in passes {
            lines.append("\(pass.pass): \(pass.rewrites.count) rewritten, \(pass.skipped.count) skipped")
            for skip in pass.skipped {
                let status = skip.waitsFor.map { "waits for \($0)" } ?? skip.status
                lines.append("  skipped \(skip.node) [\(skip.code), \(status)]: \(skip.reason)")
            }
        }
        for missing in missingPrerequisites {
            lines.append("warning: \(missing)")
        }
        lines.append(summaryLine)
        return lines.joined(separator: "\n")
    }
}
