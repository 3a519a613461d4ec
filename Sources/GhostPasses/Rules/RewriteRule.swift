import Dispatch
import GhostIR
import Glibc
import Synchronization

/// A rewrite rule: the three parts of every fusion, and nothing else.
///
/// - `match` finds candidate sites by their shape, without mutating and without judging them;
/// - `check` decides one site: it throws a `Skip` (stable code, status, nodes at fault) or
///   returns what the rewrite needs (the combined weights, the aligned geometry);
/// - `rewrite` builds the replacement in Float64 (rounded once) through the editor and says which
///   nodes it replaced.
///
/// `RuleDriver` owns everything around them: the index, the editor, conflicts between sites of
/// one sweep, the log, and (through `PassPipeline`) the fixed point. A rule file holds its math,
/// its match, its checks and its rewrite.
protocol RewriteRule: SharingPass {
    associatedtype Site: RuleSite
    associatedtype Checked

    /// ONNX operators at least one of which a graph must have for a site to exist; the driver
    /// does not index a graph that has none.
    var anchorOperators: Set<String> { get }

    func match(_ index: GraphIndex) -> [Site]
    func check(_ site: Site, _ index: GraphIndex) throws(Skip) -> Checked
    func rewrite(_ site: Site, _ checked: Checked, _ index: GraphIndex, _ editor: inout GraphEditor) throws(PassError) -> [Rewrite]

    /// The node a site is reported under in the log of the pass this sweep absorbs
    /// (`AbsorbingPass`), when that pass would have matched it: its skips go to that log too.
    /// nil for every site of a rule that absorbs nothing.
    func absorbedAnchor(_ site: Site) -> Int?
}

extension RewriteRule {
    func absorbedAnchor(_ site: Site) -> Int? { nil }
}

/// A matched site: the node it is reported under and every node a rewrite of it would replace.
protocol RuleSite {
    var anchor: Int { get }
    var claimed: [Int] { get }
}

/// One replacement a rewrite made: the nodes it replaced (display names, as `--explain` shows
/// them) and the new node's name ("" when it only removed nodes). A site's rewrite may make
/// several (one per padded branch). `absorbed`: the work of the pass this sweep absorbs
/// (`AbsorbingPass`), logged under that pass.
struct Rewrite {
    let replaced: [String]
    let result: String
    var absorbed = false

    init(replaced: [Int], result: String, in index: GraphIndex, absorbed: Bool = false) {
        self.replaced = replaced.map(index.name)
        self.result = result
        self.absorbed = absorbed
    }

    init(describing replaced: [String], result: String) {
        self.replaced = replaced
        self.result = result
    }
}

/// The site of a rule anchored on one node whose rewrite also replaces `others`.
struct NodeSite: RuleSite {
    let anchor: Int
    let others: [Int]
    var claimed: [Int] { others + [anchor] }
}

extension RewriteRule {
    /// One sweep with facts of its own (a rule run outside a pipeline): a rule file states only
    /// its match, check and rewrite, as `SweepPass` does for the shape-fold sweeps.
    public func run(on graph: inout Graph, log: inout PassLog) throws(PassError) {
        try RuleDriver.run(self, on: &graph, log: &log)
    }

    func run(on graph: inout Graph, log: inout PassLog, facts: GraphFacts) throws(PassError) {
        try RuleDriver.run(self, on: &graph, log: &log, facts: facts)
    }
}

enum RuleDriver {
    /// One sweep of `rule` over `graph` with facts of its own (a rule run outside a pipeline).
    static func run<R: RewriteRule>(_ rule: R, on graph: inout Graph, log: inout PassLog) throws(PassError) {
        try run(rule, on: &graph, log: &log, facts: GraphFacts())
    }

    /// One sweep of `rule` over `graph`: every site matched, checked, and rewritten unless a
    /// node it needs is already claimed by another rewrite of this sweep (that site is logged
    /// as a conflict and the pipeline's next round takes it). A graph without the rule's anchor
    /// operators costs a census lookup; the index is the one `facts` holds for this graph.
    static func run<R: RewriteRule>(_ rule: R, on graph: inout Graph, log: inout PassLog, facts: GraphFacts) throws(PassError) {
        var unused = PassLog()
        try run(rule, on: &graph, log: &log, absorbedLog: &unused, facts: facts)
    }

    /// The same, for a rule whose sweep also does the work of the pass it absorbs
    /// (`AbsorbingPass`): that work, and the skips of the sites that pass would have matched,
    /// go to `absorbedLog`.
    static func run<R: RewriteRule>(_ rule: R, on graph: inout Graph, log: inout PassLog, absorbedLog: inout PassLog,
                                    facts: GraphFacts) throws(PassError) {
        if !rule.anchorOperators.isEmpty, !facts.census(of: graph).containsAny(rule.anchorOperators) {
            return
        }
        guard case (var edits, let table)? = try sweep(rule, facts.index(of: graph), log: &log, absorbedLog: &absorbedLog) else { return }
        let indexedCount = graph.nodes.count
        facts.invalidate()
        edits.apply(to: &graph, retiring: facts.retirement)
        // The next build (the pipeline's check of this pass) reuses the names this edit kept.
        let (origins, groups) = edits.nodeOrigins(indexedCount: indexedCount)
        facts.carry = table.carry(origins: origins, groups: groups,
                                  slotIDs: edits.slotIDs(indexed: table.slotIDs, slotCount: graph.initializers.slotCount),
                                  into: graph)
    }

    /// The sweep's edits, and the value table of the index it read (which the caller hands to the
    /// next build once the index is gone).
    private static func sweep<R: RewriteRule>(_ rule: R, _ index: GraphIndex, log: inout PassLog,
                                              absorbedLog: inout PassLog) throws(PassError) -> (GraphEdits, ValueTable)? {
        var editor = GraphEditor(index)
        var rewrote = false
        let sites = rule.match(index)
        // Checks read the index and nothing else, so a large sweep's are made on another core
        // while this one rewrites; the rewrites take them in site order, as one loop would.
        let verdicts = CheckStream(rule, sites, index, concurrent: sites.count >= concurrentCheckThreshold)
        defer { verdicts.finish() }
        for site in sites {
            let verdict = verdicts.next()
            let anchor = index.name(site.anchor)
            let absorbedAnchor = rule.absorbedAnchor(site).map(index.name)
            guard editor.isFree(site.claimed) else {
                let skip = Skip(.siteClaimed, "another rewrite of this pass took one of its nodes; the next round takes it", status: .conflict)
                log.skipped(anchor, skip)
                if let absorbedAnchor { absorbedLog.skipped(absorbedAnchor, skip) }
                continue
            }
            let checked: R.Checked
            switch verdict {
            case .success(let value):
                checked = value
            case .failure(let skip):
                log.skipped(anchor, skip)
                if let absorbedAnchor { absorbedLog.skipped(absorbedAnchor, skip) }
                continue
            }
            for done in try rule.rewrite(site, checked, index, &editor) {
                if done.absorbed {
                    absorbedLog.rewrote(done.replaced, into: done.result)
                } else {
                    log.rewrote(done.replaced, into: done.result)
                }
                rewrote = true
            }
        }
        guard rewrote, let edits = editor.finish() else { return nil }
        return (edits, index.valueTable)
    }

    /// Sites from which a sweep's checks are made on another core: below it, starting a thread
    /// costs more than it saves.
    static let concurrentCheckThreshold = 2048
}

/// The states of a `CheckStream`'s worker.
private enum Worker {
    static let pending = 0, running = 1, stopped = 2, calledOff = 3
}

/// The verdicts of a sweep's checks, taken in site order.
///
/// Concurrent, a worker checks sites front to back while the sweep, rewriting site by site on
/// its own thread, takes each verdict as it is ready; a sweep then costs about the longer of its
/// checks and its rewrites instead of their sum. Each site is claimed once, by whichever thread
/// gets to it first (one atomic counter): the worker claims the next site to check, and the sweep,
/// reaching a site nobody has claimed yet, claims it and checks it itself. So the sweep waits only
/// for a check the worker is running at that moment, never for a worker that has not started
/// (a pool with no free thread), and it would run every check itself then, as one loop does.
/// A check reads its site and the index, which nothing writes during the sweep (its lazily made
/// tables are locked); the rewrites write only the editor and the log.
///
/// Unchecked Sendable: the worker writes verdict `k` before setting its flag (release), the sweep
/// reads it only after seeing the flag (acquire); `taken` is the sweep's alone.
final class CheckStream<R: RewriteRule>: @unchecked Sendable {
    private let rule: R
    private let sites: [R.Site]
    private let index: GraphIndex
    private let concurrent: Bool
    /// The worker's verdicts, and per site whether the worker's verdict is there.
    private let verdicts: UnsafeMutablePointer<Result<R.Checked, Skip>>
    private let ready: UnsafeMutablePointer<Atomic<Bool>>
    /// The first site nobody has claimed.
    private let claimed = Atomic<Int>(0)
    /// The worker's state: not started, running, done, or called off before it started.
    private let state = Atomic<Int>(Worker.pending)
    private let done = DispatchSemaphore(value: 0)
    private var taken = 0
    private var finished = false
    /// The sites the sweep checked itself (all of them when the worker never ran).
    private(set) var checkedBySweep = 0

    /// `start` runs the worker's loop somewhere else (a global queue by default; tests pass one
    /// that delays it or never runs it).
    init(_ rule: R, _ sites: [R.Site], _ index: GraphIndex, concurrent: Bool,
         start: (@escaping @Sendable () -> Void) -> Void = { work in DispatchQueue.global(qos: .userInitiated).async(execute: work) }) {
        self.rule = rule
        self.sites = sites
        self.index = index
        self.concurrent = concurrent && sites.count > 1
        let capacity = self.concurrent ? sites.count : 0
        verdicts = .allocate(capacity: capacity)
        ready = .allocate(capacity: capacity)
        for position in 0..<capacity { (ready + position).initialize(to: Atomic(false)) }
        if self.concurrent {
            start { self.produce() }
        }
    }

    private func produce() {
        guard state.compareExchange(expected: Worker.pending, desired: Worker.running, ordering: .acquiringAndReleasing).exchanged else {
            return  // called off: the sweep finished without it
        }
        while true {
            let position = claimed.wrappingAdd(1, ordering: .relaxed).oldValue
            guard position < sites.count else { break }
            (verdicts + position).initialize(to: verdict(position))
            ready[position].store(true, ordering: .releasing)
        }
        state.store(Worker.stopped, ordering: .releasing)
        done.signal()
    }

    private func verdict(_ position: Int) -> Result<R.Checked, Skip> {
        do throws(Skip) {
            return .success(try rule.check(sites[position], index))
        } catch {
            return .failure(error)
        }
    }

    /// The verdict of the next site.
    func next() -> Result<R.Checked, Skip> {
        let position = taken
        taken += 1
        guard concurrent, position < sites.count else {
            checkedBySweep += 1
            return verdict(position)
        }
        // Every earlier site was claimed, so `claimed` is `position` (nobody has this one: check it
        // here) or past it (the worker has it: wait for its flag).
        if claimed.compareExchange(expected: position, desired: position + 1, ordering: .relaxed).exchanged {
            checkedBySweep += 1
            return verdict(position)
        }
        var spins = 0
        while !ready[position].load(ordering: .acquiring) {
            spins += 1
            if spins > 64 { sched_yield() }
        }
        return (verdicts + position).move()
    }

    /// Stops the worker claiming sites and drops the verdicts not taken (a sweep that threw stops
    /// early): the sweep calls it when done, so no check outlives its sweep. A worker that has not
    /// started is called off, not waited for.
    func finish() {
        guard !finished else { return }
        finished = true
        guard concurrent else { return }
        claimed.store(sites.count, ordering: .relaxed)
        if !state.compareExchange(expected: Worker.pending, desired: Worker.calledOff, ordering: .acquiringAndReleasing).exchanged {
            done.wait()
        }
    }

    // The worker's closure holds the stream, so the stream goes once the worker has stopped or
    // been called off (or, never started, with its queue): no thread writes the buffers then.
    deinit {
        if concurrent {
            for position in taken..<sites.count where ready[position].load(ordering: .acquiring) {
                (verdicts + position).deinitialize(count: 1)
            }
        }
        ready.deinitialize(count: concurrent ? sites.count : 0)
        ready.deallocate()
        verdicts.deallocate()
    }
}
