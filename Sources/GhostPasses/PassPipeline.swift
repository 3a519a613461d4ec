import GhostIR

/// The ordered list of passes, run to a fixed point: a later pass can expose work for an earlier
/// one (a merged branch makes a BatchNormalization foldable), so the whole list repeats until a
/// round rewrites nothing.
public struct PassPipeline: Sendable {
    public let passes: [any GraphPass]
    /// Check the graph after every pass that rewrote something (a pass that rewrote nothing
    /// returns the graph it was given), so a defect is blamed on the pass that made it, and run
    /// `GraphVerifier` on the result (see `firstDefect`).
    public var verifyAfterEachPass: Bool
    public var maximumRounds = 8
    /// Whether a pass's sweep does the work of the pass before it where it can (`AbsorbingPass`);
    /// false runs every pass on its own, which gives the same graph and reports more slowly
    /// (the tests compare the two).
    var absorbsPasses = true

    public init(passes: [any GraphPass], verifyAfterEachPass: Bool = true) {
        self.passes = passes
        self.verifyAfterEachPass = verifyAfterEachPass
    }

    /// The default pipeline, in order. The names are part of the interface.
    public static let `default` = PassPipeline(passes: [
        // shape-fold
        FoldShape(),
        FoldConstants(),
        FoldReshapeTarget(),
        EliminateNoopOps(),
        SliceOfConcat(),
        EliminateIdentity(),
        FoldBatchNormIntoConv(),
        FoldAffineIntoConv(),
        // dbb-pad
        FoldBiasPaddingIntoConv(),
        // end dbb-pad
        // seq-rules
        FoldBatchNormIntoFollowingConv(),
        MergeSequentialConvs(),
        FoldBatchNormIntoLinear(),
        FoldAffineIntoLinear(),
        // end seq-rules
        BatchNormToDepthwiseConv(),
        PadKernelTo3x3(),
        MergeParallelConvs(),
        MergeParallelLinears(),
        EliminateDeadNodes(),
    ])

    public var passNames: [String] { passes.map(\.name) }

    /// Passes this pipeline runs whose prerequisites (`GraphPass.requires`) it does not run:
    /// the sites that need them are logged as `waits-for` and stay unrewritten.
    public var missingPrerequisites: [MissingPrerequisite] {
        let names = Set(passNames)
        return passes.flatMap { pass in
            pass.requires.filter { !names.contains($0) }.map { MissingPrerequisite(pass: pass.name, requires: $0) }
        }
    }

    /// This pipeline without the named passes; unknown names are an error.
    public func disabling(_ names: [String]) throws(PassError) -> PassPipeline {
        for name in names where !passNames.contains(name) {
            throw .unknownPass(name: name, known: passNames)
        }
        var copy = PassPipeline(passes: passes.filter { !names.contains($0.name) }, verifyAfterEachPass: verifyAfterEachPass)
        copy.maximumRounds = maximumRounds
        copy.absorbsPasses = absorbsPasses
        return copy
    }

    public func run(_ graph: Graph) throws(PassError) -> PipelineResult {
        var graph = graph
        // The census and index of the graph as it stands, shared by the passes until one changes it.
        let facts = GraphFacts()
        // Passes place replacements at the position of the nodes they replace, which keeps a
        // topologically ordered list ordered; so start from one. A list in which every node reads
        // only values defined before it — what exporters write — is one already (Kahn's order,
        // which takes the first ready node, would be the list itself), and the index that tells
        // is the one the first pass reads.
        if !facts.index(of: graph).isWellFormedInOrder {
            facts.invalidate()
            do {
                graph.nodes = try graph.topologicallySortedNodes()
            } catch {
                throw .brokeGraph(pass: "(input)", defect: error)
            }
        }
        var reports = passes.map { PassReport(pass: $0.name) }
        // By the position of a pass whose sweep does the work of the one before it
        // (`AbsorbingPass`), that one's position; the pipeline does not run it on its own.
        var absorbedPass: [Int: Int] = [:]
        if absorbsPasses {
            for (position, pass) in passes.enumerated().dropFirst() {
                if let absorbing = pass as? any AbsorbingPass, absorbing.absorbs == passes[position - 1].name {
                    absorbedPass[position] = position - 1
                }
            }
        }
        let absorbed = Set(absorbedPass.values)
        var spent = [Duration](repeating: .zero, count: passes.count)
        var verifying = Duration.zero
        let clock = ContinuousClock()
        var rounds = 0
        // Passes run since the graph last changed. A pass is a function of the graph, so one that
        // already ran on this very graph would find nothing again (and skip the same sites): on a
        // large graph the last round is mostly such re-runs, each a full index build.
        var unchangedSince = Set<Int>()
        while rounds < maximumRounds {
            rounds += 1
            var rewrotePass = false
            for (index, pass) in passes.enumerated() where !unchangedSince.contains(index) && !absorbed.contains(index) {
                var log = PassLog()
                // What this pass's sweep logs for the pass it absorbs, if it absorbs one.
                var absorbedLog = PassLog()
                let started = clock.now
                let before = Shape(graph)
                if absorbedPass[index] != nil, let absorbing = pass as? any AbsorbingPass {
                    try absorbing.run(on: &graph, log: &log, absorbedLog: &absorbedLog, facts: facts)
                } else if let sharing = pass as? any SharingPass {
                    try sharing.run(on: &graph, log: &log, facts: facts)
                } else {
                    // A pass from elsewhere may change the graph in ways the shape does not show.
                    facts.invalidate()
                    try pass.run(on: &graph, log: &log)
                }
                let rewrote = !log.rewrites.isEmpty || !absorbedLog.rewrites.isEmpty
                let changed = rewrote || Shape(graph) != before
                if changed { facts.invalidate() }
                let ran = clock.now
                spent[index] += ran - started
                if verifyAfterEachPass, rewrote, let defect = Self.firstDefect(in: graph, facts: facts) {
                    throw .brokeGraph(pass: pass.name, defect: defect)
                }
                verifying += clock.now - ran
                reports[index].rewrites += log.rewrites
                // Sites still skipped in the final round are the ones never rewritten.
                reports[index].skipped = log.skipped
                if let other = absorbedPass[index] {
                    reports[other].rewrites += absorbedLog.rewrites
                    reports[other].skipped = absorbedLog.skipped
                }
                rewrotePass = rewrotePass || rewrote
                if !changed {
                    unchangedSince.insert(index)
                } else {
                    unchangedSince = []
                }
            }
            if !rewrotePass { break }
        }
        // What the last rewrites removed goes with the result: nothing is left to overlap its
        // release with, and a caller that exits without releasing the result (`fuse`) never
        // pays for it.
        let replaced = facts.retirement.takePending()
        // Housekeeping a pass does without a rewrite (dropping unread weights) is checked here.
        let finalCheck = clock.now
        if verifyAfterEachPass, let defect = GraphVerifier.defects(in: graph).first {
            throw .brokeGraph(pass: passes.last?.name ?? "(pipeline)", defect: defect)
        }
        verifying += clock.now - finalCheck
        // An absorbed pass's time is in its absorber's (its own is zero).
        var timings = zip(passes, spent).map { PassTiming(step: $0.name, duration: $1) }
        timings.append(PassTiming(step: "(verify)", duration: verifying))
        return PipelineResult(graph: graph, reports: reports, rounds: rounds, missingPrerequisites: missingPrerequisites,
                              timings: timings, replaced: replaced)
    }
}

extension PassPipeline {
    /// The first defect of a graph a pass rewrote. Rules 1–4 are answered by the index of the
    /// rewritten graph, built now into `facts` for the next pass to read (`ValueTable` decides
    /// them while it interns the names, so the check costs no sweep of its own), rule 5 by
    /// `GraphVerifier`; a graph that fails the index's test goes to `GraphVerifier` whole, which
    /// finds and describes every defect. The pipeline's final check is `GraphVerifier` alone.
    static func firstDefect(in graph: Graph, facts: GraphFacts) -> GraphValidationError? {
        if facts.index(of: graph).isWellFormedInOrder { return GraphVerifier.typeDefects(in: graph).first }
        return GraphVerifier.defects(in: graph).first
    }
}

/// A pass whose sweep can also do the work of the pass right before it in a pipeline (named by
/// `absorbs`), logging that work — and the skips of the sites that pass would have matched — under
/// that pass, so the reports read as if the two ran one after the other, while the graph is
/// indexed, edited and checked once. The pipeline then does not run the absorbed pass on its own;
/// with it disabled, or not right before, each runs as itself.
protocol AbsorbingPass: SharingPass {
    var absorbs: String { get }
    func run(on graph: inout Graph, log: inout PassLog, absorbedLog: inout PassLog, facts: GraphFacts) throws(PassError)
}

/// What a pass can change without logging a rewrite (dead-node elimination drops unread
/// initializers and stale value_info): if none of these moved, the graph is the one it was given.
private struct Shape: Equatable {
    let nodes: Int, initializers: Int, inputs: Int, valueInfo: Int

    init(_ graph: Graph) {
        nodes = graph.nodes.count
        initializers = graph.initializers.count
        inputs = graph.inputs.count
        valueInfo = graph.valueInfo.count
    }
}

/// A pass that runs without one it requires.
public struct MissingPrerequisite: Codable, Equatable, Sendable, CustomStringConvertible {
    public let pass: String
    public let requires: String

    public var description: String {
        "'\(pass)' requires '\(requires)', which is disabled: the sites that need it stay as they are (reported as waits-for)"
    }
}

/// What one pass did over the whole pipeline run.
public struct PassReport: Codable, Equatable, Sendable {
    public let pass: String
    public var rewrites: [RewriteRecord] = []
    /// Sites that matched but were not rewritten, with their reasons.
    public var skipped: [SkippedSite] = []

    public init(pass: String) { self.pass = pass }
}

public struct PipelineResult: Sendable {
    public let graph: Graph
    public let reports: [PassReport]
    /// Rounds run until nothing changed (the last round rewrote nothing, unless capped).
    public let rounds: Int
    /// Prerequisites of running passes that were disabled.
    public var missingPrerequisites: [MissingPrerequisite] = []
    /// Wall time of each pass over all rounds (in pipeline order), then of the checks after the
    /// rewriting passes (the index of each rewritten graph) and the `GraphVerifier` run at the
    /// end, as `(verify)`: what `fuse --timings` details.
    public var timings: [PassTiming] = []
    /// The nodes and weights the last rewrites replaced, released with the result (see
    /// `Retirement`); nothing reads them.
    var replaced: (any AnyObject & Sendable)?
}

/// Wall time spent in one step of a pipeline run.
public struct PassTiming: Equatable, Sendable {
    public let step: String
    public let duration: Duration
}
