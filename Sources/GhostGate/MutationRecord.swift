import Foundation
import GhostMutation

/// How `mutate-check` tests the gate: the gate's own settings, and which mutants to plant.
public struct MutationConfiguration: Codable, Equatable, Sendable {
    /// Tolerance, samples, seed, precision, threads, shapes: exactly what `gate` verifies with.
    public var gate = GateConfiguration()
    /// Mutants per kind and model, at distinct nodes.
    public var perKind = 1
    public var kinds: [Mutant.Kind] = Mutant.Kind.allCases
    /// Seed of the site picker (the samples have `gate.seed`).
    public var mutationSeed: UInt64 = 0

    public init() {}

    public func validate() throws(GateUsageError) {
        try gate.validate()
        guard perKind >= 1 else { throw .invalidOption("--per-kind must be at least 1") }
        guard !kinds.isEmpty else { throw .invalidOption("--kinds must name at least one kind") }
    }
}

/// What became of one mutant.
public enum MutantVerdict: String, Codable, Sendable, CaseIterable {
    /// The gate said "not equivalent" (exit 3).
    case caught
    /// The gate passed it, and the mutant provably changes nothing the samples reach (the
    /// reason says why: identical kernels, a zero bias, Relu6 where no input exceeds 6, …).
    case equivalent
    /// The gate passed a mutant that changes the graph: a hole in the gate (the reason gives the
    /// mutated node's own divergence, to tell a masked defect from an unseen one).
    case missed
    /// The mutant could not be planted or run (exit 2).
    case error
}

/// Where the gate's first divergence is, relative to the mutated node.
public enum DivergencePlace: String, Codable, Sendable {
    /// The mutated node itself (its output keeps the name it has in the original).
    case mutatedNode = "mutated-node"
    /// A node that reads the mutated node's output (the mutated node's own output has no
    /// counterpart in the original).
    case downstream
    /// Neither: the localization blamed a node the mutant cannot have changed.
    case elsewhere
}

public struct MutantResult: Codable, Equatable, Sendable {
    public var kind: Mutant.Kind
    public var mutant: Mutant
    public var description: String
    public var verdict: MutantVerdict
    /// What `gate` would exit with on this model if the fusion had produced this graph.
    public var exitCode: Int32
    public var reason: String?
    public var worstRelativeError: Double?
    /// The intermediate check's figures, when it was made.
    public var intermediates: GateRecord.IntermediateFigures?
    public var firstDivergence: GateRecord.FirstDivergence?
    public var divergencePlace: DivergencePlace?
    /// For a passed mutant: rel at the mutated node's own output against the correct fusion.
    public var mutatedNodeRelativeError: Double?

    public init(mutant: Mutant, verdict: MutantVerdict, exitCode: Int32, reason: String? = nil) {
        kind = mutant.kind
        self.mutant = mutant
        description = mutant.description
        self.verdict = verdict
        self.exitCode = exitCode
        self.reason = reason
    }
}

public struct MutationKindResult: Codable, Equatable, Sendable {
    public var kind: Mutant.Kind
    /// Why the fused graph has nowhere to plant this kind (then `mutants` is empty).
    public var noSite: String?
    public var mutants: [MutantResult]

    public init(kind: Mutant.Kind, noSite: String? = nil, mutants: [MutantResult] = []) {
        self.kind = kind
        self.noSite = noSite
        self.mutants = mutants
    }
}

/// One model: the gate's record of the correct fusion, then every mutant of it.
public struct MutationRecord: Codable, Equatable, Sendable {
    public var root: String
    public var path: String
    public var file: String
    /// The correct fusion, checked as `gate` checks it: it must be equivalent.
    public var baseline: GateRecord
    public var kinds: [MutationKindResult]
    /// Why no mutant was run (the model could not be checked, or its correct fusion already fails).
    public var notRun: String?
    public var seconds: Double

    public init(entry: ModelEntry, baseline: GateRecord) {
        root = entry.root
        path = entry.relativePath
        file = entry.path
        self.baseline = baseline
        kinds = []
        notRun = nil
        seconds = 0
    }

    public var mutants: [MutantResult] { kinds.flatMap(\.mutants) }
}

/// Exit code of `mutate-check`: **2** if a model or a mutant could not be checked; else **3** if
/// the gate failed a correct fusion or passed a mutant that changes the graph (a missed mutant);
/// else **0** — every mutant caught or shown equivalent.
public enum MutationExitCode {
    public static func of(_ records: [MutationRecord]) -> Int32 {
        if records.contains(where: { $0.baseline.outcome == .error || $0.mutants.contains { $0.verdict == .error } }) { return 2 }
        if records.contains(where: { $0.baseline.outcome == .notEquivalent || $0.mutants.contains { $0.verdict == .missed } }) { return 3 }
        return 0
    }
}

/// Counts of one kind (or all kinds) over models.
public struct MutationTally: Equatable, Sendable {
    public var caught = 0, caughtAtMutatedNode = 0, equivalent = 0, missed = 0, errors = 0, noSite = 0

    public init() {}

    public init(_ results: [MutationKindResult]) {
        for result in results { add(result) }
    }

    public mutating func add(_ result: MutationKindResult) {
        if result.noSite != nil { noSite += 1 }
        for mutant in result.mutants {
            switch mutant.verdict {
            case .caught:
                caught += 1
                if mutant.divergencePlace == .mutatedNode { caughtAtMutatedNode += 1 }
            case .equivalent: equivalent += 1
            case .missed: missed += 1
            case .error: errors += 1
            }
        }
    }

    /// "3 caught (2 at the node), 1 equivalent", "no site", or "—".
    public var cell: String {
        var parts: [String] = []
        if caught > 0 { parts.append("\(caught) caught" + (caughtAtMutatedNode < caught ? " (\(caughtAtMutatedNode) at the node)" : "")) }
        if equivalent > 0 { parts.append("\(equivalent) equivalent") }
        if missed > 0 { parts.append("**\(missed) MISSED**") }
        if errors > 0 { parts.append("\(errors) error\(errors == 1 ? "" : "s")") }
        if noSite > 0 { parts.append(caught + equivalent + missed + errors == 0 && noSite == 1 ? "no site" : "\(noSite) no site") }
        return parts.isEmpty ? "—" : parts.joined(separator: ", ")
    }
}
