import Foundation
import GhostPasses

/// Runs the gate over a set of models: each model checked in its own worker, `jobs` at a time,
/// records returned in the order of `entries`.
///
/// ```swift
/// let entries = try ModelDiscovery.discover(["Models"]).filter { Shard.all.contains(relativePath: $0.relativePath) }
/// let gate = Gate(configuration: GateConfiguration(), jobs: 2,
///                 workers: .processes(executable: URL(fileURLWithPath: "/usr/bin/ghost-convert"), arguments: ["gate-worker"]))
/// let records = gate.run(entries)
/// exit(GateExitCode.of(records))
/// ```
public struct Gate: Sendable {
    public enum Workers: Sendable {
        /// Each model in a child process: `executable arguments… --configuration JSON --entry JSON`,
        /// which must print one `GateRecord` as JSON on stdout (`ghost-convert gate-worker` does).
        /// A worker that crashes or is killed becomes a `worker-crashed` record, one that outlives
        /// `timeout` a `timeout` record; the others go on.
        case processes(executable: URL, arguments: [String])
        /// In this process, on `jobs` threads, fusing with `pipeline` (a crash here ends the run:
        /// for tests and tools that trust their inputs).
        case inProcess(pipeline: PassPipeline = .default)
    }

    public var configuration: GateConfiguration
    public var jobs: Int
    public var failFast: Bool
    public var workers: Workers
    /// Seconds a worker process may take for one model before it is stopped and the model
    /// recorded as a `timeout` error (could not be checked: exit 2); nil waits forever. Only
    /// worker processes can be stopped, so `.inProcess` ignores it.
    public var timeout: Double?

    /// The default `timeout`: generous, since ghostnet_100 at 224² takes ~15 s in a debug build
    /// on a busy machine; a hung model should not stall CI for its whole job limit.
    public static let defaultTimeout = 600.0

    public init(configuration: GateConfiguration, jobs: Int = ProcessInfo.processInfo.activeProcessorCount,
                failFast: Bool = false, workers: Workers, timeout: Double? = Gate.defaultTimeout) {
        self.configuration = configuration
        self.jobs = max(1, jobs)
        self.failFast = failFast
        self.workers = workers
        self.timeout = timeout
    }

    /// Checks every entry; `progress` is called (from worker threads, one call at a time) when a
    /// model starts and when one finishes.
    public func run(_ entries: [ModelEntry], progress: (@Sendable (GateProgress) -> Void)? = nil) -> [GateRecord] {
        let state = RunState(entries: entries, progress: progress)
        let threads = min(jobs, max(entries.count, 1))
        let group = DispatchGroup()
        for _ in 0..<threads {
            group.enter()
            let thread = Thread { [self] in
                while let (index, entry) = state.next(stopping: failFast) {
                    let record = check(entry)
                    state.finish(index, record)
                }
                group.leave()
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
        group.wait()
        return state.records()
    }

    func check(_ entry: ModelEntry) -> GateRecord {
        // Discovery already failed: no worker needed to say so.
        if let problem = entry.problem { return GateRecord(entry: entry, outcome: .error, error: problem) }
        switch workers {
        case .inProcess(let pipeline):
            return ModelCheck.run(entry, configuration: configuration, pipeline: pipeline)
        case .processes(let executable, let arguments):
            let start = ContinuousClock.now
            var record = WorkerProcess.run(entry, configuration: configuration, executable: executable, arguments: arguments,
                                           timeout: timeout)
            // What CI pays for a model includes starting its worker.
            record.seconds = ModelCheck.seconds(since: start)
            return record
        }
    }
}

/// Where a run stands, for a progress line.
public struct GateProgress: Sendable {
    public let done: Int
    public let total: Int
    /// Relative paths of the models being checked now.
    public let running: [String]
    public let elapsed: Double
    /// The record that just finished, when this report is about one finishing.
    public let finished: GateRecord?
    /// Seconds left at the average pace so far (nil before the first model finishes).
    public var estimatedRemaining: Double? {
        done == 0 ? nil : elapsed / Double(done) * Double(total - done)
    }
}

/// The shared queue of a run: which entry is next, the records so far, progress reports.
private final class RunState: @unchecked Sendable {
    private let lock = NSLock()
    private let entries: [ModelEntry]
    private var results: [GateRecord?]
    private var nextIndex = 0
    private var done = 0
    private var running: [Int: String] = [:]
    private var stopped = false
    private let start = ContinuousClock.now
    private let progress: (@Sendable (GateProgress) -> Void)?

    init(entries: [ModelEntry], progress: (@Sendable (GateProgress) -> Void)?) {
        self.entries = entries
        results = Array(repeating: nil, count: entries.count)
        self.progress = progress
    }

    func next(stopping failFast: Bool) -> (Int, ModelEntry)? {
        lock.withLock {
            guard nextIndex < entries.count, !(failFast && stopped) else { return nil }
            defer { nextIndex += 1 }
            running[nextIndex] = entries[nextIndex].relativePath
            report(finished: nil)
            return (nextIndex, entries[nextIndex])
        }
    }

    func finish(_ index: Int, _ record: GateRecord) {
        lock.withLock {
            results[index] = record
            running[index] = nil
            done += 1
            if record.outcome == .notEquivalent || record.outcome == .error { stopped = true }
            report(finished: record)
        }
    }

    /// Entries never started (after --fail-fast) are `skipped`.
    func records() -> [GateRecord] {
        lock.withLock {
            results.enumerated().map { index, record in
                record ?? GateRecord(entry: entries[index], outcome: .skipped,
                                     error: GateError(code: "fail-fast", message: "not checked: --fail-fast stopped the gate after an earlier failure"))
            }
        }
    }

    private func report(finished: GateRecord?) {
        guard let progress else { return }
        progress(GateProgress(done: done, total: entries.count, running: running.sorted { $0.key < $1.key }.map(\.value),
                              elapsed: ModelCheck.seconds(since: start), finished: finished))
    }
}
