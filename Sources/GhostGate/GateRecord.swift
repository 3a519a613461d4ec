import Foundation
import GhostVerify

/// A typed failure in a record: the stable kebab-case `code` of the error that stopped the check
/// (`malformed-protobuf`, `unsupported-operator`, `symlink-loop`, `worker-crashed`, …) and its
/// sentence.
public struct GateError: Codable, Equatable, Sendable, Error {
    public var code: String
    public var message: String

    public init(code: String, message: String) {
        self.code = code
        self.message = message
    }
}

/// What the gate concluded about one model.
public enum GateOutcome: String, Codable, Sendable, CaseIterable {
    case equivalent
    case notEquivalent = "not-equivalent"
    /// The model could not be checked: unreadable, malformed, unsupported, or its worker died or
    /// timed out.
    case error
    /// Not run because `--fail-fast` stopped the gate first.
    case skipped
}

/// One model's result: the `--json` array holds one per model (keys in docs/cli.md).
public struct GateRecord: Codable, Equatable, Sendable {
    public struct NodeCounts: Codable, Equatable, Sendable {
        public var before: Int
        public var after: Int

        public init(before: Int, after: Int) {
            self.before = before
            self.after = after
        }
    }

    public struct PassCount: Codable, Equatable, Sendable {
        public var pass: String
        public var rewrites: Int

        public init(pass: String, rewrites: Int) {
            self.pass = pass
            self.rewrites = rewrites
        }
    }

    /// The worst figures of one graph output over every sample.
    public struct OutputFigures: Codable, Equatable, Sendable {
        public var output: String
        public var relativeError: Double
        public var maxAbsoluteError: Double
        public var passed: Bool

        public init(output: String, relativeError: Double, maxAbsoluteError: Double, passed: Bool) {
            self.output = output
            self.relativeError = relativeError
            self.maxAbsoluteError = maxAbsoluteError
            self.passed = passed
        }
    }

    public struct FirstDivergence: Codable, Equatable, Sendable {
        public var node: String
        public var opType: String
        public var value: String
        public var fusedFrom: [String]
        public var relativeError: Double
        public var maxAbsoluteError: Double

        /// The verifier's divergence, as every record (gate, verify, mutant) holds it.
        public init(_ divergence: Divergence) {
            self.init(node: divergence.node, opType: divergence.opType, value: divergence.value, fusedFrom: divergence.fusedFrom,
                      relativeError: divergence.comparison.relativeError, maxAbsoluteError: divergence.comparison.maxAbsoluteError)
        }

        public init(node: String, opType: String, value: String, fusedFrom: [String], relativeError: Double, maxAbsoluteError: Double) {
            self.node = node
            self.opType = opType
            self.value = value
            self.fusedFrom = fusedFrom
            self.relativeError = relativeError
            self.maxAbsoluteError = maxAbsoluteError
        }
    }

    /// The intermediate check's figures over every sample (absent when only outputs were compared).
    public struct IntermediateFigures: Codable, Equatable, Sendable {
        /// Distinct values compared, values skipped because they depend on a selection, and
        /// (value, sample) pairs past the tolerance.
        public var compared: Int
        public var skippedDownstreamOfSelection: Int
        public var failed: Int
        public var worstValue: String?
        public var worstNode: String?
        public var worstRelativeError: Double?

        public init(_ check: IntermediateCheck) {
            compared = check.compared
            skippedDownstreamOfSelection = check.skippedDownstreamOfSelection
            failed = check.failed
            worstValue = check.worst?.value
            worstNode = check.worst?.node
            worstRelativeError = check.worst?.comparison.relativeError
        }

        public init(compared: Int, skippedDownstreamOfSelection: Int, failed: Int,
                    worstValue: String?, worstNode: String?, worstRelativeError: Double?) {
            self.compared = compared
            self.skippedDownstreamOfSelection = skippedDownstreamOfSelection
            self.failed = failed
            self.worstValue = worstValue
            self.worstNode = worstNode
            self.worstRelativeError = worstRelativeError
        }

        /// "412 values compared, worst rel 3.1e-07 at 'x' (node 'n')".
        public var sentence: String {
            var text = "\(compared) intermediate value\(compared == 1 ? "" : "s") compared"
            if let worstRelativeError, let worstValue {
                text += ", worst rel \(GateRecord.number(worstRelativeError)) at '\(worstValue)'"
            }
            if failed > 0 { text += ", \(failed) past the tolerance" }
            if skippedDownstreamOfSelection > 0 { text += "; \(skippedDownstreamOfSelection) downstream of a selection skipped" }
            return text
        }
    }

    public var root: String
    public var path: String
    public var file: String
    public var outcome: GateOutcome
    public var error: GateError?
    public var nodes: NodeCounts?
    public var passes: [PassCount]
    public var outputs: [OutputFigures]
    public var worstRelativeError: Double?
    public var firstDivergence: FirstDivergence?
    public var intermediates: IntermediateFigures?
    /// Files written under `--output-dir` (only for equivalent models).
    public var written: [String]
    public var seconds: Double

    public init(entry: ModelEntry, outcome: GateOutcome, error: GateError? = nil, seconds: Double = 0) {
        root = entry.root
        path = entry.relativePath
        file = entry.path
        self.outcome = outcome
        self.error = error
        nodes = nil
        passes = []
        outputs = []
        worstRelativeError = nil
        firstDivergence = nil
        written = []
        self.seconds = seconds
    }

    static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return encoder
    }

    static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return decoder
    }
}

/// The exit code of a whole gate run. The rule: **2 if any model could not be checked** (an
/// unreadable, malformed or unsupported model, a discovery failure, a crashed worker, a worker
/// stopped after `--timeout`: a hung model could not be checked either) — the gate
/// did not cover the set, whatever else happened; otherwise **3 if any model is not equivalent**;
/// otherwise **0**. Skipped models (after `--fail-fast`) do not count. Both classes are always
/// counted in the summary and the reports, so a 2 never hides a not-equivalent model.
public enum GateExitCode {
    public static func of(_ records: [GateRecord]) -> Int32 {
        if records.contains(where: { $0.outcome == .error }) { return 2 }
        if records.contains(where: { $0.outcome == .notEquivalent }) { return 3 }
        return 0
    }
}

/// Counts per outcome, for summary lines.
public struct GateTally: Equatable, Sendable {
    public var equivalent = 0, notEquivalent = 0, errors = 0, skipped = 0
    public var total: Int { equivalent + notEquivalent + errors + skipped }

    public init(_ records: [GateRecord]) {
        for record in records {
            switch record.outcome {
            case .equivalent: equivalent += 1
            case .notEquivalent: notEquivalent += 1
            case .error: errors += 1
            case .skipped: skipped += 1
            }
        }
    }

    public var sentence: String {
        var parts = ["\(equivalent) equivalent", "\(notEquivalent) NOT equivalent", "\(errors) error\(errors == 1 ? "" : "s")"]
        if skipped > 0 { parts.append("\(skipped) skipped") }
        return parts.joined(separator: ", ")
    }
}
