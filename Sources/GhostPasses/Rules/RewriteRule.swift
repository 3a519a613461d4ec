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
}

/// A matched site: the node it is reported under and every node a rewrite of it would replace.
protocol RuleSite {
    var anchor: Int { get }
    var claimed: [Int] { get }
}

/// One replacement a rewrite made: the nodes it replaced (display names, as `--explain` shows
/// them) and the new node's name ("" when it only removed nodes). A site's rewrite may make
/// several (one per padded branch).
struct Rewrite {
    let replaced: [String]
    let result: String

    init(replaced: [Int], result: String, in index: GraphIndex) {
        self.replaced = replaced.map(index.name)
        self.result = result
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
        if !rule.anchorOperators.isEmpty, !facts.census(of: graph).containsAny(rule.anchorOperators) {
            return
        }
        guard let (edits, table) = try sweep(rule, facts.index(of: graph), log: &log) else { return }
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
    private static func sweep<R: RewriteRule>(_ rule: R, _ index: GraphIndex, log: inout PassLog) throws(PassError) -> (GraphEdits, ValueTable)? {
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
            guard editor.isFree(site.claimed) else {
                log.skipped(anchor, Skip(.siteClaimed, "another rewrite of this pass took one of its nodes; the next round takes it",
                                         status: .conflict))
                continue
            }
            let checked: R.Checked
            switch verdict {
            case .success(let value):
                checked = value
            case .failure(let skip):
                log.skipped(anchor, skip)
                continue
            }
            for done in try rule.rewrite(site, checked, index, &editor) {
                log.rewrote(done.replaced, into: done.result)
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

/// The verdicts of a sweep's checks, taken in site order.
///
/// Concurrent, a worker checks the sites front to back and publishes how many verdicts are
/// ready; the sweep, rewriting site by site on its own thread, takes each verdict once it is
/// published (it waits only when the checks fall behind the rewrites). A sweep then costs about
/// the longer of its checks and its rewrites instead of their sum. A check reads its site and the
/// index, which nothing writes during the sweep (its lazily made tables are locked); the rewrites
/// write only the editor and the log. Otherwise each verdict is made when it is taken.
///
/// Unchecked Sendable: the worker writes verdict `k` before publishing `k + 1` (release), the
/// sweep reads it only after seeing that (acquire); `taken` is the sweep's alone.
final class CheckStream<R: RewriteRule>: @unchecked Sendable {
    private let rule: R
    private let sites: [R.Site]
    private let index: GraphIndex
    private let concurrent: Bool
    private let verdicts: UnsafeMutablePointer<Result<R.Checked, Skip>>
    private let ready = Atomic<Int>(0)
    private let done = DispatchSemaphore(value: 0)
    private var taken = 0
    private var finished = false

    init(_ rule: R, _ sites: [R.Site], _ index: GraphIndex, concurrent: Bool) {
        self.rule = rule
        self.sites = sites
        self.index = index
        self.concurrent = concurrent && sites.count > 1
        verdicts = .allocate(capacity: self.concurrent ? sites.count : 0)
        if self.concurrent {
            DispatchQueue.global(qos: .userInitiated).async { self.produce() }
        }
    }

    private func produce() {
        for position in sites.indices {
            (verdicts + position).initialize(to: verdict(position))
            ready.store(position + 1, ordering: .releasing)
        }
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
        guard concurrent else { return verdict(position) }
        var spins = 0
        while ready.load(ordering: .acquiring) <= position {
            spins += 1
            if spins > 64 { sched_yield() }
        }
        return (verdicts + position).move()
    }

    /// Waits for the worker and drops the verdicts not taken (a sweep that threw stops early):
    /// the sweep calls it when done, so no check outlives its sweep.
    func finish() {
        guard !finished else { return }
        if concurrent { done.wait() }
        release()
    }

    private func release() {
        finished = true
        if concurrent { (verdicts + taken).deinitialize(count: sites.count - taken) }
        verdicts.deallocate()
    }

    // The worker holds the stream until its last check, so a stream released without `finish`
    // is one the worker is done with.
    deinit { if !finished { release() } }
}
