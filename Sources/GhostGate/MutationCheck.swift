import Foundation
import GhostIR
import GhostInterpreter
import GhostMutation
import GhostONNX
import GhostPasses
import GhostVerify

/// Mutation testing of the gate: fuse a model, check that the gate passes the correct fusion,
/// then plant mutants in the fused graph (`GhostMutation`) and run each through the same verifier
/// against the original. A mutant the gate fails is caught; one it passes is either provably
/// equivalent (the picker's reason) or a miss, reported with how far the mutated node's own
/// output moved. The original's results are computed once per sample and reused for every mutant.
public enum MutationCheck {
    /// - Parameters:
    ///   - pipeline: the correct fusion (default pipeline unless a test gives another).
    ///   - mutants: plant exactly these instead of picking (for tests and reproductions).
    public static func run(_ entry: ModelEntry, configuration: MutationConfiguration,
                           pipeline: PassPipeline = .default, mutants explicit: [Mutant]? = nil) -> MutationRecord {
        let start = ContinuousClock.now
        var record = check(entry, configuration: configuration, pipeline: pipeline, mutants: explicit)
        record.seconds = ModelCheck.seconds(since: start)
        return record
    }

    private static func check(_ entry: ModelEntry, configuration: MutationConfiguration,
                              pipeline: PassPipeline, mutants explicit: [Mutant]?) -> MutationRecord {
        let settings = configuration.gate
        var record = MutationRecord(entry: entry, baseline: GateRecord(entry: entry, outcome: .error))

        let original: Graph, fused: Graph, samples: [[String: Tensor]]
        do {
            if let problem = entry.problem { throw problem }
            original = try ONNXModelLoader.load(path: entry.path).graph
            let result = try pipeline.run(original)
            fused = result.graph
            record.baseline.nodes = .init(before: original.nodes.count, after: fused.nodes.count)
            record.baseline.passes = result.reports.map { .init(pass: $0.pass, rewrites: $0.rewrites.count) }
            samples = try ModelCheck.samples(for: original, configuration: settings)
        } catch {
            record.baseline.error = GateError(error)
            record.notRun = "the model could not be checked [\(record.baseline.error?.code ?? "")]"
            return record
        }

        let executor = MutationExecutor(precision: settings.arithmetic.precision, threads: settings.threads)
        let verifier = Verifier(executor: executor, tolerance: .relative(settings.tolerance), checksIntermediates: settings.intermediates)
        let taggedOriginal = MutationExecutor.tag(original, "original")
        let baseline = MutationExecutor.tag(fused, "baseline")
        do {
            let verdict = try verifier.verify(original: taggedOriginal, fused: baseline, samples: samples)
            fill(&record.baseline, with: verdict, outputs: original.outputs.map(\.name))
        } catch {
            record.baseline.outcome = .error
            record.baseline.error = executor.firstError ?? GateError(error)
            record.notRun = "the correct fusion could not be verified [\(record.baseline.error?.code ?? "")]"
            return record
        }
        guard record.baseline.outcome == .equivalent else {
            let inside = record.baseline.intermediates.flatMap { figures in
                figures.failed > 0 ? figures.worstRelativeError.map { ", intermediates \(GateRecord.number($0))" } : nil
            } ?? ""
            record.notRun = "the correct fusion is already NOT equivalent (worst rel \(GateRecord.number(record.baseline.worstRelativeError ?? 0))\(inside)), so a failing mutant would prove nothing"
            return record
        }

        let (ranges, channelRanges) = valueRanges(of: baseline, samples: samples, executor: executor)
        let picker = MutantPicker(graph: fused, seed: configuration.mutationSeed, ranges: ranges, channelRanges: channelRanges)
        let reach = GraphReach(fused)
        var planned: [(Mutant.Kind, MutantPicker.Pick)] = []
        if let explicit {
            for kind in Mutant.Kind.allCases where explicit.contains(where: { $0.kind == kind }) {
                planned.append((kind, MutantPicker.Pick(mutants: explicit.filter { $0.kind == kind }, noSite: nil)))
            }
        } else {
            planned = configuration.kinds.map { ($0, picker.pick($0, count: configuration.perKind)) }
        }
        var serial = 0
        for (kind, pick) in planned {
            var result = MutationKindResult(kind: kind, noSite: pick.noSite)
            for mutant in pick.mutants {
                serial += 1
                result.mutants.append(evaluate(mutant, serial: serial, fused: fused, baseline: baseline, original: taggedOriginal,
                                               samples: samples, verifier: verifier, executor: executor, picker: picker, reach: reach))
            }
            record.kinds.append(result)
        }
        return record
    }

    static func evaluate(_ mutant: Mutant, serial: Int, fused: Graph, baseline: Graph, original: Graph, samples: [[String: Tensor]],
                         verifier: Verifier, executor: MutationExecutor, picker: MutantPicker, reach: GraphReach) -> MutantResult {
        let mutated: Graph
        do {
            mutated = MutationExecutor.tag(try mutant.applied(to: fused), "mutant-\(serial)")
        } catch {
            return MutantResult(mutant: mutant, verdict: .error, exitCode: 2, reason: "[\(error.code)] \(error.errorDescription ?? "")")
        }
        let verdict: VerificationResult
        do {
            verdict = try verifier.verify(original: original, fused: mutated, samples: samples)
        } catch {
            let failure = executor.firstError ?? GateError(error)
            return MutantResult(mutant: mutant, verdict: .error, exitCode: 2, reason: "[\(failure.code)] \(failure.message)")
        }
        var result = MutantResult(mutant: mutant, verdict: .caught, exitCode: 3)
        result.worstRelativeError = verdict.worstRelativeError
        result.intermediates = verdict.intermediates.map(GateRecord.IntermediateFigures.init)
        if !verdict.equivalent {
            if let divergence = verdict.firstDivergence {
                result.firstDivergence = .init(divergence)
                result.divergencePlace = divergence.node == mutant.node ? .mutatedNode
                    : reach.downstream(of: mutant.node).contains(divergence.node) ? .downstream : .elsewhere
            }
            return result
        }
        result.exitCode = 0
        if let reason = picker.equivalence(of: mutant) {
            result.verdict = .equivalent
            result.reason = reason
            return result
        }
        let moved = ownDivergence(of: mutant.node, in: mutated, baseline: baseline, samples: samples, executor: executor)
        result.mutatedNodeRelativeError = moved
        if moved == 0 {
            // Bit-identical at the mutated node on every sample: no comparison of values could see
            // it (e.g. swapped channels that carry the same values); equivalent on these samples.
            result.verdict = .equivalent
            result.reason = "equivalent on the samples: the mutated node's output is bit-identical on every sample"
            return result
        }
        result.verdict = .missed
        result.reason = "the outputs stayed within the tolerance (worst rel \(GateRecord.number(verdict.worstRelativeError)))"
            + (result.intermediates.map { ", and so did the shared intermediate values (\($0.sentence))" } ?? "")
            + (moved.map { "; the mutated node's own output moved by rel \(GateRecord.number($0))" } ?? "")
        return result
    }

    /// The range every value of the fused graph takes over the samples, whole and per channel
    /// (axis 1) for the inputs of Conv nodes.
    static func valueRanges(of graph: Graph, samples: [[String: Tensor]],
                            executor: MutationExecutor) -> ([String: ValueRange], [String: [ValueRange]]) {
        var ranges: [String: ValueRange] = [:], channels: [String: [ValueRange]] = [:]
        let convInputs = Set(graph.nodes.filter { $0.isONNX("Conv") }.compactMap(\.inputs.first))
        for sample in samples {
            guard let values = try? executor.execute(graph, inputs: sample, intermediates: true) else { return ([:], [:]) }
            for (name, tensor) in values where tensor.elementType == .float32 || tensor.elementType == .float64 {
                let numbers = tensor.doubleValues()
                ranges[name] = ValueRange.merging(ranges[name], numbers)
                if convInputs.contains(name) { channels[name] = ValueRange.mergingChannels(channels[name], numbers, shape: tensor.shape) }
            }
        }
        return (ranges, channels)
    }

    /// The worst rel, over the samples, of the mutated node's outputs against the correct fusion's.
    static func ownDivergence(of node: String, in mutated: Graph, baseline: Graph, samples: [[String: Tensor]],
                              executor: MutationExecutor) -> Double? {
        guard let outputs = mutated.nodes.first(where: { $0.name == node })?.outputs else { return nil }
        var worst: Double?
        for sample in samples {
            guard let a = try? executor.execute(baseline, inputs: sample, intermediates: true),
                  let b = try? executor.execute(mutated, inputs: sample, intermediates: true) else { return worst }
            for output in outputs where !output.isEmpty {
                guard let x = a[output], let y = b[output], x.shape == y.shape else { continue }
                worst = max(worst ?? 0, Comparison.compare(expected: x, actual: y).relativeError)
            }
        }
        return worst
    }

    static func fill(_ record: inout GateRecord, with verdict: VerificationResult, outputs: [String]) {
        record.outputs = ModelCheck.figures(verdict, outputs: outputs)
        record.worstRelativeError = verdict.worstRelativeError
        record.intermediates = verdict.intermediates.map(GateRecord.IntermediateFigures.init)
        if let divergence = verdict.firstDivergence {
            record.firstDivergence = .init(divergence)
        }
        record.outcome = verdict.equivalent ? .equivalent : .notEquivalent
        record.error = nil
    }

    /// Every entry, `jobs` models at a time (in this process); `progress` is told of each model
    /// as it finishes, one call at a time.
    public static func run(_ entries: [ModelEntry], configuration: MutationConfiguration, jobs: Int,
                           progress: (@Sendable (MutationRecord, _ done: Int, _ total: Int) -> Void)? = nil) -> [MutationRecord] {
        let queue = MutationQueue(count: entries.count)
        let group = DispatchGroup()
        for _ in 0..<min(max(jobs, 1), max(entries.count, 1)) {
            group.enter()
            let thread = Thread {
                while let index = queue.next() {
                    let record = run(entries[index], configuration: configuration)
                    let done = queue.finish(index, record)
                    progress?(record, done, entries.count)
                }
                group.leave()
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
        group.wait()
        return queue.records()
    }
}

private final class MutationQueue: @unchecked Sendable {
    private let lock = NSLock()
    private var nextIndex = 0, done = 0
    private var results: [MutationRecord?]

    init(count: Int) { results = Array(repeating: nil, count: count) }

    func next() -> Int? {
        lock.withLock {
            guard nextIndex < results.count else { return nil }
            defer { nextIndex += 1 }
            return nextIndex
        }
    }

    func finish(_ index: Int, _ record: MutationRecord) -> Int {
        lock.withLock {
            results[index] = record
            done += 1
            return done
        }
    }

    func records() -> [MutationRecord] { lock.withLock { results.compactMap { $0 } } }
}

/// Runs the graphs of one model's mutation check. The original's results are kept per sample
/// (every mutant is compared with the same ones); the interpreter of the correct fusion is kept;
/// a mutant's interpreter lives until the next mutant. Graphs are told apart by a tag in their name.
final class MutationExecutor: GraphExecutor, @unchecked Sendable {
    private static let prefix = "\u{1}ghost-mutation:"
    private let precision: Precision
    private let threads: Int
    private let lock = NSLock()
    private var kept: [String: Interpreter] = [:]
    private var latest: (name: String, interpreter: Interpreter)?
    private var originalResults: [(inputs: [String: Tensor], intermediates: Bool, values: [String: Tensor])] = []
    /// The original's observed runs per sample, for the summarizer they were made with.
    private var originalObservations: [(inputs: [String: Tensor], keeping: Set<String>, summarizer: ValueSummarizer, run: ObservedRun)] = []
    private let first = FirstError()

    init(precision: Precision, threads: Int) {
        self.precision = precision
        self.threads = threads
    }

    static func tag(_ graph: Graph, _ role: String) -> Graph {
        var copy = graph
        copy.name = prefix + role
        return copy
    }

    /// The first typed interpreter error, which the verifier flattens to text.
    var firstError: GateError? { first.error }

    func execute(_ graph: Graph, inputs: [String: Tensor], intermediates: Bool) throws -> [String: Tensor] {
        lock.lock()
        defer { lock.unlock() }
        let isOriginal = graph.name == Self.prefix + "original"
        if isOriginal, let hit = originalResults.first(where: { ($0.intermediates || !intermediates) && $0.inputs == inputs }) {
            return hit.values
        }
        do {
            let values = try interpreter(for: graph).run(inputs, keepingIntermediates: intermediates)
            if isOriginal {
                // Outputs of every sample, but only the latest full set of intermediates (memory).
                if intermediates { originalResults.removeAll { $0.intermediates } }
                originalResults.append((inputs, intermediates, values))
            }
            return values
        } catch {
            first.record(error)
            throw error
        }
    }

    func observe(_ graph: Graph, inputs: [String: Tensor], keeping: Set<String>, summarizer: ValueSummarizer) throws -> ObservedRun {
        lock.lock()
        defer { lock.unlock() }
        let isOriginal = graph.name == Self.prefix + "original"
        if isOriginal, let hit = originalObservations.first(where: {
            $0.keeping == keeping && $0.summarizer == summarizer && $0.inputs == inputs
        }) {
            return hit.run
        }
        do {
            let run = try interpreter(for: graph).observe(inputs, keeping: keeping, summarizer: summarizer)
            if isOriginal { originalObservations.append((inputs, keeping, summarizer, run)) }
            return run
        } catch {
            first.record(error)
            throw error
        }
    }

    private func interpreter(for graph: Graph) throws -> Interpreter {
        if let made = kept[graph.name] { return made }
        if let latest, latest.name == graph.name { return latest.interpreter }
        let made = try Interpreter(graph: graph, precision: precision, threads: threads)
        if graph.name == Self.prefix + "original" || graph.name == Self.prefix + "baseline" {
            kept[graph.name] = made
        } else {
            latest = (graph.name, made)
        }
        return made
    }
}
