import Foundation
import GhostIR
@testable import GhostPasses
import Testing

// A value table built from the carry of the one before it (its names' ids, and hints of where
// each name of the edited graph had its id) must answer every question exactly as a table built
// afresh; a hint that is wrong may only cost a hash. Checks made on another core while the sweep
// rewrites, and the search for branch sums split between threads, must give what one loop gives,
// in its order.

/// `blocks` RepVGG blocks on 2 channels: Relu(BN(Conv3×3(x)) + BN(Conv1×1(x)) + BN(x)), or with
/// the Conv branches' BatchNormalizations already folded (Conv with bias).
private func repVGG(blocks: Int, folded: Bool = false) -> Graph {
    var builder = TestGraphBuilder(shape: [1, 2, 4, 4], elementType: .float32)
    var value = "x"
    for block in 0..<blocks {
        var dense = builder.conv("cd\(block)", value, out: 2, in: 2, kernel: 3, bias: folded)
        var point = builder.conv("cp\(block)", value, out: 2, in: 2, kernel: 1, bias: folded)
        if !folded {
            dense = builder.batchNorm("bd\(block)", dense, channels: 2)
            point = builder.batchNorm("bp\(block)", point, channels: 2)
        }
        let identity = builder.batchNorm("bi\(block)", value, channels: 2)
        let sum = builder.op("Add", "s\(block)", [builder.op("Add", "a\(block)", [dense, point]), identity])
        value = builder.op("Relu", "r\(block)", [sum])
    }
    builder.output(value)
    return builder.graph
}

/// Every name a question could be about: the graph's values, weights, inputs, nodes, and names
/// it no longer holds.
private func names(of graph: Graph, plus extra: [String]) -> [String] {
    var names = graph.initializers.names + graph.inputs.map(\.name) + graph.outputs.map(\.name) + extra + ["", "missing"]
    for node in graph.nodes { names += node.inputs + node.outputs + [node.name] }
    return names
}

/// `carried` answers as `fresh` for every name, id, slot and node of `graph`.
private func expectSameAnswers(_ carried: ValueTable, _ fresh: ValueTable, _ graph: Graph, extra: [String], _ label: String) {
    for name in names(of: graph, plus: extra) {
        let a = carried.lookup(name), b = fresh.lookup(name)
        #expect(a.produced == b.produced && a.slot == b.slot && a.readers == b.readers, "\(label): lookup(\(name))")
        #expect(carried.producer(of: name) == fresh.producer(of: name), "\(label): producer(\(name))")
        #expect(carried.contains(name) == fresh.contains(name), "\(label): contains(\(name))")
    }
    #expect(carried.isWellFormedInOrder == fresh.isWellFormedInOrder, "\(label)")
    for position in graph.nodes.indices {
        let present = graph.nodes[position].inputs.filter { !$0.isEmpty }
        let ids = Array(carried.inputIDs(ofNode: position))
        #expect(ids.count == present.count, "\(label): node \(position)")
        for (id, name) in zip(ids, present) {
            let byID = carried.lookup(id: Int(id)), byName = fresh.lookup(name)
            #expect(byID.produced == byName.produced && byID.slot == byName.slot && byID.readers == byName.readers,
                    "\(label): input \(name) of node \(position)")
        }
        if let first = graph.nodes[position].outputs.first, !first.isEmpty {
            let id = carried.firstOutputID(ofNode: position)
            #expect(id.map { carried.producer(id: $0) } == position, "\(label): first output of node \(position)")
        }
    }
    for slot in 0..<graph.initializers.slotCount {
        #expect(carried.initializerID(slot: slot).map { carried.slot(id: $0) } == fresh.initializerID(slot: slot).map { _ in slot },
                "\(label): slot \(slot)")
    }
}

@Test func aTableBuiltFromTheCarryOfTheLastEditAnswersAsAFreshOne() throws {
    var graph = repVGG(blocks: 12)
    let facts = GraphFacts()
    let passes: [any RewriteRule] = [FoldBatchNormIntoConv(), BatchNormToDepthwiseConv(), PadKernelTo3x3(), MergeParallelConvs()]
    var before = names(of: graph, plus: [])
    var previousNodes = graph.nodes
    var previousWeights = Set(graph.initializers.names)
    for pass in passes {
        var log = PassLog()
        try run(pass, on: &graph, log: &log, facts: facts)
        #expect(!log.rewrites.isEmpty, "\(pass.name) rewrote nothing")
        #expect(facts.carry != nil, "\(pass.name) left no carry")
        var carry = facts.carry
        facts.carry = nil
        let carried = ValueTable(graph, carrying: &carry)
        let fresh = ValueTable(graph)
        #expect(carry == nil)  // taken
        // Names the pass removed are among those asked about: they keep an id and answer as absent.
        expectSameAnswers(carried, fresh, graph, extra: before, pass.name)
        // The hints were used: every name occurrence is hinted or hashed once, and only those the
        // edit made (graph inputs, weights it added, the nodes it placed) are hashed.
        let made = graph.inputs.count
            + graph.initializers.names.filter { !previousWeights.contains($0) }.count
            + graph.nodes.filter { !previousNodes.contains($0) }.reduce(0) { $0 + ($1.inputs + $1.outputs).filter { !$0.isEmpty }.count }
        #expect(carried.hintedNames > 0
                && carried.hashedNames + carried.hintedNames == fresh.hashedNames + fresh.hintedNames
                && carried.hashedNames <= made,
                "\(pass.name): \(carried.hashedNames) hashed, \(carried.hintedNames) hinted, fresh \(fresh.hashedNames), made \(made)")
        // Each replacement here reuses the names of the nodes it replaces and reads the weights
        // its edit added, in their order: the hints cover it, and only the added weights (and
        // the graph input) are hashed.
        let added = graph.initializers.names.filter { !previousWeights.contains($0) }.count
        #expect(carried.hashedNames == graph.inputs.count + added, "\(pass.name): \(carried.hashedNames) hashed, \(added) weights added")
        before = names(of: graph, plus: [])
        previousNodes = graph.nodes
        previousWeights = Set(graph.initializers.names)
        facts.invalidate()
    }
    #expect(graph.nodes.filter { $0.opType == "Conv" }.count == 12)
}

private func run<R: RewriteRule>(_ rule: R, on graph: inout Graph, log: inout PassLog, facts: GraphFacts) throws {
    try RuleDriver.run(rule, on: &graph, log: &log, facts: facts)
}

@Test func wrongHintsCostHashesNeverWrongAnswers() throws {
    let graph = repVGG(blocks: 5)
    let count = graph.nodes.count
    // Every node told it was another one, every slot given another weight's id.
    let scrambles: [(String, [Int32], (ValueTable) -> [Int32])] = [
        ("reversed", (0..<count).reversed().map { Int32($0) }, { Array($0.slotIDs.reversed()) }),
        ("shifted", (0..<count).map { Int32(($0 + 1) % count) }, { $0.slotIDs.map { $0 < 0 ? $0 : $0 + 1 } }),
        ("all new", [Int32](repeating: -1, count: count), { _ in [] }),
    ]
    for (label, origins, slots) in scrambles {
        let old = ValueTable(graph)
        var carry = old.carry(origins: origins, slotIDs: slots(old), into: graph)
        #expect(carry != nil, "\(label)")
        let carried = ValueTable(graph, carrying: &carry)
        expectSameAnswers(carried, ValueTable(graph), graph, extra: [], label)
    }
    // Every node told it was placed, replacing the wrong nodes (or none), every slot an added weight.
    let groups: [[Int32]] = [[0, 1], [Int32(count - 1)], [], [3, 2, 1, 0]]
    let placed = (0..<count).map { Int32(-2 - $0 % groups.count) }
    var wrongGroups = ValueTable(graph).carry(origins: placed, groups: groups, slotIDs: [], into: graph)
    #expect(wrongGroups != nil)
    let regrouped = ValueTable(graph, carrying: &wrongGroups)
    expectSameAnswers(regrouped, ValueTable(graph), graph, extra: [], "wrong groups")
    // Groups naming positions the old table never had, or origins naming groups not given, are declined.
    #expect(ValueTable(graph).carry(origins: placed, groups: [[Int32(count)]] + groups.dropFirst(), slotIDs: [], into: graph) == nil)
    #expect(ValueTable(graph).carry(origins: placed, groups: Array(groups.prefix(2)), slotIDs: [], into: graph) == nil)
    // A carry made for another graph is declined.
    let old = ValueTable(graph)
    #expect(old.carry(origins: [0], slotIDs: [], into: graph) == nil)
    var smaller = graph
    smaller.nodes.removeLast()
    var carry = ValueTable(graph).carry(origins: (0..<count).map { Int32($0) }, slotIDs: [], into: graph)
    #expect(carry?.fits(smaller) == false)
    let declined = ValueTable(smaller, carrying: &carry)
    // Declined, it is built as a fresh table is: the same guesses, the same hashes.
    let unhinted = ValueTable(smaller)
    #expect(carry == nil && declined.hintedNames == unhinted.hintedNames && declined.hashedNames == unhinted.hashedNames)
    expectSameAnswers(declined, ValueTable(smaller), smaller, extra: [], "declined")
}

@Test func checksMadeOnAnotherCoreGiveTheVerdictsOfOneLoop() throws {
    // More sites than the threshold; every seventh BatchNormalization's input is also read by a
    // Relu, so those sites fail their check (the Conv output is shared).
    var builder = TestGraphBuilder(shape: [1, 2, 4, 4], elementType: .float32)
    let sites = RuleDriver.concurrentCheckThreshold + 101
    for site in 0..<sites {
        let conv = builder.conv("c\(site)", "x", out: 2, in: 2, kernel: 1)
        builder.output(builder.batchNorm("b\(site)", conv, channels: 2))
        if site % 7 == 3 { builder.output(builder.op("Relu", "r\(site)", [conv])) }
    }
    let index = GraphIndex(builder.graph)
    let rule = FoldBatchNormIntoConv()
    let matched = rule.match(index)
    #expect(matched.count == sites)
    func verdicts(concurrent: Bool, taking count: Int) -> [String] {
        let stream = CheckStream(rule, matched, index, concurrent: concurrent)
        defer { stream.finish() }
        return (0..<count).map { _ in String(describing: stream.next()) }
    }
    let serial = verdicts(concurrent: false, taking: matched.count)
    for _ in 0..<3 {
        #expect(verdicts(concurrent: true, taking: matched.count) == serial)
    }
    // A sweep that stops early (a rewrite threw) leaves the rest to `finish`.
    #expect(verdicts(concurrent: true, taking: 10) == Array(serial.prefix(10)))
    let abandoned = CheckStream(rule, matched, index, concurrent: true)
    _ = abandoned.next()
    // A worker that never gets a thread (a pool with none free): the sweep checks every site
    // itself, and `finish` calls the worker off instead of waiting for it.
    let held = HeldWork()
    let starved = CheckStream(rule, matched, index, concurrent: true, start: { held.work = $0 })
    #expect(matched.indices.map { _ in String(describing: starved.next()) } == serial)
    starved.finish()
    #expect(starved.checkedBySweep == matched.count)
    held.work?()  // started after all: it finds itself called off and checks nothing
    // A worker that starts late, from another thread, with a third of the sweep done: the two
    // share the rest, each site checked once, in order.
    let late = HeldWork()
    let delayed = CheckStream(rule, matched, index, concurrent: true, start: { late.work = $0 })
    var taken = (0..<(matched.count / 3)).map { _ in String(describing: delayed.next()) }
    let work = try #require(late.work)
    let thread = Thread { work() }
    thread.start()
    taken += (matched.count / 3..<matched.count).map { _ in String(describing: delayed.next()) }
    delayed.finish()
    thread.cancel()
    #expect(taken == serial && delayed.checkedBySweep >= matched.count / 3 && delayed.checkedBySweep <= matched.count)
    let failures = serial.filter { $0.hasPrefix("failure") }.count
    #expect(failures == (0..<sites).filter { $0 % 7 == 3 }.count)
}

/// A worker's start, held for a test to run later or never.
private final class HeldWork: @unchecked Sendable {
    var work: (@Sendable () -> Void)?
}

@Test func branchSumsFoundOnSeveralThreadsAreThoseOfOneLoopInOrder() throws {
    let graph = repVGG(blocks: BranchSum.concurrentSearchThreshold / 6 + 40, folded: true)
    let index = GraphIndex(graph)
    let serial = BranchSum.find(in: index, threads: 1)
    #expect(graph.nodes.count > BranchSum.concurrentSearchThreshold)
    #expect(serial.count == BranchSum.concurrentSearchThreshold / 6 + 40)
    for threads in [2, 5] {
        let split = BranchSum.find(in: index, threads: threads)
        #expect(split.map(\.tree) == serial.map(\.tree) && split.map(\.input) == serial.map(\.input)
                && split.map(\.leaves) == serial.map(\.leaves), "\(threads) threads")
    }
}

@Test func chunkedWorkJoinsInOrder() {
    for count in [0, 1, 2, 7, 64, 1000] {
        let serial = Array(0..<count).map { $0 * 3 }
        for threads in [1, 2, 3, 8, 16] {
            let joined = Chunked.flatMap(count, minimum: 1, threads: threads) { range in range.map { $0 * 3 } }
            #expect(joined == serial, "\(count) items, \(threads) threads")
        }
    }
}

@Test func orphansFoundOnSeveralThreadsAreThoseOfOneLoopInOrder() throws {
    // 2 × 4,600 nodes (above `concurrentFinishThreshold`): Mul(v, w) then Add(·, c_i), chained;
    // `w` has 4,600 readers, so every chunk decides it, and each c_i has one.
    let units = 4600
    #expect(2 * units >= GraphEditor.concurrentFinishThreshold)
    var builder = TestGraphBuilder(shape: [1, 2], elementType: .float32)
    let shared = builder.constant("w", [1.5, -2], shape: [2])
    var value = "x"
    for unit in 0..<units {
        let bias = builder.constant("c\(unit)", [Float(unit), 1], shape: [2])
        value = builder.op("Add", "a\(unit)", [builder.op("Mul", "m\(unit)", [value, shared]), bias])
    }
    builder.output(value)
    let graph = builder.graph
    let index = GraphIndex(graph)
    var slotOf: [String: Int] = [:]
    for slot in 0..<graph.initializers.slotCount {
        if let name = graph.initializers.name(inSlot: slot) { slotOf[name] = slot }
    }
    // Removing every node but the last Add orphans `w` and every c_i but the last; removing the
    // first half keeps `w` (the second half reads it).
    let cases: [(String, [Int], [String])] = [
        ("all but the last", Array(0..<(2 * units - 1)), ["w"] + (0..<(units - 1)).map { "c\($0)" }),
        ("first half", Array(0..<units), (0..<(units / 2)).map { "c\($0)" }),
    ]
    for (label, positions, expected) in cases {
        var editor = GraphEditor(index)
        for position in positions { editor.replace([position], with: nil) }
        let serial = try #require(editor.finish(threads: 1))
        #expect(serial.orphans.sorted() == expected.sorted(), "\(label): \(serial.orphans.count) orphans")
        #expect(serial.orphanSlots == serial.orphans.map { slotOf[$0] ?? -2 }, "\(label): slots")
        for threads in [2, 3, 8] {
            let chunked = try #require(editor.finish(threads: threads))
            #expect(chunked.orphans == serial.orphans && chunked.orphanSlots == serial.orphanSlots, "\(label), \(threads) threads")
        }
    }
}
