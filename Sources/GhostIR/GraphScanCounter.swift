/// Counts the work of the graph-wide scans (index builds, topological sorts) done by the task
/// that installs it, so a test can check that fusing a graph stays linear in its size without
/// timing anything: `GraphScanCounter.$current.withValue(counter) { … }`.
///
/// Only the installing task touches it (the passes run synchronously), hence unchecked Sendable.
package final class GraphScanCounter: @unchecked Sendable {
    @TaskLocal package static var current: GraphScanCounter?

    /// Elementary steps: node inputs and outputs visited, and name comparisons made.
    package private(set) var steps = 0
    /// Scans made (each a pass over every node).
    package private(set) var scans = 0
    /// `GraphIndex` constructions (a matching pass builds one per run).
    package private(set) var indexBuilds = 0
    /// `GraphVerifier` calls, and the node inputs and outputs their quick sweep visited.
    package private(set) var verifications = 0
    package private(set) var verifierSteps = 0
    /// Verifier calls that needed the rule-by-rule examination (a defect, or nodes out of order).
    package private(set) var detailedVerifications = 0
    /// Node inputs the quick sweep had to look up in a hash table (neither a recent output nor
    /// the next weight in the initializers' order).
    package private(set) var verifierInputLookups = 0

    package init() {}

    package func record(_ steps: Int) {
        self.steps += steps
        scans += 1
    }

    package func recordIndexBuild() {
        indexBuilds += 1
    }

    package func recordVerification(steps: Int, inputLookups: Int = 0, detailed: Bool) {
        verifications += 1
        verifierSteps += steps
        verifierInputLookups += inputLookups
        if detailed { detailedVerifications += 1 }
    }
}
