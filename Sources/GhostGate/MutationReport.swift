import Foundation
import GhostMutation

/// The reports of `mutate-check`: one line per mutant for logs, a Markdown table (models × kinds)
/// for docs/verify.md, and the records as JSON.
public enum MutationReport {
    /// One line per mutant: verdict, kind, what was changed, and the gate's answer.
    public static func line(_ result: MutantResult) -> String {
        var text = "\(result.verdict.rawValue.padding(toLength: 10, withPad: " ", startingAt: 0)) \(result.kind.rawValue): \(result.description)"
        switch result.verdict {
        case .caught:
            text += ": exit 3, worst rel \(GateRecord.number(result.worstRelativeError ?? 0))"
            if let divergence = result.firstDivergence {
                let place = switch result.divergencePlace {
                case .mutatedNode: "the mutated node"
                case .downstream: "downstream of the mutated node"
                case .elsewhere, nil: "NOT downstream of the mutated node"
                }
                text += ", first divergence '\(divergence.node)' (\(divergence.opType)), \(place)"
            } else {
                text += ", no node localized"
            }
        case .equivalent, .missed, .error:
            if let reason = result.reason { text += ": \(reason)" }
        }
        return text
    }

    /// The summary table: a row per model, a column per kind, then totals and the details of
    /// every mutant that was not caught.
    public static func markdown(_ records: [MutationRecord], configuration: MutationConfiguration) -> String {
        let kinds = configuration.kinds
        var lines = [
            "| model | correct fusion | " + kinds.map(\.rawValue).joined(separator: " | ") + " |",
            "|---|---|" + String(repeating: "---|", count: kinds.count),
        ]
        var totals = Dictionary(uniqueKeysWithValues: kinds.map { ($0, MutationTally()) })
        for record in records {
            let baseline = switch record.baseline.outcome {
            case .equivalent: "passes, rel \(GateRecord.number(record.baseline.worstRelativeError ?? 0))\(inside(record.baseline))"
            case .notEquivalent: "**fails**, rel \(GateRecord.number(record.baseline.worstRelativeError ?? 0))\(inside(record.baseline))"
            case .error, .skipped: "error [\(record.baseline.error?.code ?? "")]"
            }
            let cells = kinds.map { kind -> String in
                guard record.notRun == nil else { return "not run" }
                let results = record.kinds.filter { $0.kind == kind }
                totals[kind]?.add(contentsOf: results)
                return MutationTally(results).cell
            }
            lines.append("| \(record.path) | \(baseline) | " + cells.joined(separator: " | ") + " |")
        }
        lines.append("| **total** | \(records.filter { $0.baseline.outcome == .equivalent }.count) of \(records.count) pass | "
            + kinds.map { totals[$0]?.cell ?? "" }.joined(separator: " | ") + " |")

        let notCaught = records.flatMap { record in
            record.mutants.filter { $0.verdict != .caught }.map { "- \(record.path): \(line($0))" }
        }
        let notRun = records.compactMap { record in record.notRun.map { "- \(record.path): mutants not run: \($0)" } }
        let noSites = Dictionary(grouping: records.flatMap { $0.kinds.compactMap { result in result.noSite.map { (result.kind, $0) } } },
                                 by: { $0.0 })
        var text = lines.joined(separator: "\n") + "\n"
        if !noSites.isEmpty {
            text += "\nNo site:\n" + kinds.compactMap { kind in
                noSites[kind].map { "- \(kind.rawValue) (\($0.count) model\($0.count == 1 ? "" : "s")): \(Set($0.map(\.1)).sorted().joined(separator: "; "))" }
            }.joined(separator: "\n") + "\n"
        }
        if !notCaught.isEmpty || !notRun.isEmpty {
            text += "\nNot caught:\n" + (notRun + notCaught).joined(separator: "\n") + "\n"
        }
        return text
    }

    /// ", intermediates 3.1e-07" when the correct fusion's shared values were compared.
    static func inside(_ record: GateRecord) -> String {
        record.intermediates?.worstRelativeError.map { ", intermediates \(GateRecord.number($0))" } ?? ""
    }

    public static func json(_ records: [MutationRecord]) throws -> Data {
        let encoder = GateRecord.encoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(records)
    }

    public static func write(_ text: String, to path: String) throws {
        try writeAtomically(Array(text.utf8), to: path)
    }

    public static func writeJSON(_ records: [MutationRecord], to path: String) throws {
        try writeAtomically([UInt8](try json(records)), to: path)
    }
}

extension MutationTally {
    public mutating func add(contentsOf results: [MutationKindResult]) {
        for result in results { add(result) }
    }
}
