import Foundation
import GhostIR
import GhostVerify

/// The settings a report states alongside the records.
public struct GateSettings: Sendable {
    public var tolerance: Double
    /// The criterion in words: `tolerance 1e-05`, or `atol …, rtol …` for `verify --atol/--rtol`.
    public var criterion: String
    public var arithmetic: GateConfiguration.Arithmetic
    public var samples: Int
    public var shard: Shard
    /// Whether the values both graphs share were compared too (`--outputs-only` turns it off).
    public var intermediates: Bool

    public init(tolerance: Double, arithmetic: GateConfiguration.Arithmetic, samples: Int, shard: Shard = .all,
                intermediates: Bool = false) {
        self.tolerance = tolerance
        self.intermediates = intermediates
        criterion = "tolerance \(JUnitReport.number(tolerance))"
        self.arithmetic = arithmetic
        self.samples = samples
        self.shard = shard
    }

    public init(_ configuration: GateConfiguration, shard: Shard = .all) {
        self.init(tolerance: configuration.tolerance, arithmetic: configuration.arithmetic, samples: configuration.samples, shard: shard,
                  intermediates: configuration.intermediates)
    }
}

extension GateRecord {
    /// The record of one `verify` run (no fusion step: the fused model was given).
    public init(original: String, fused: String, result: VerificationResult, seconds: Double) {
        self.init(entry: ModelEntry(root: PathText.directory(of: fused), relativePath: PathText.name(of: fused),
                                    path: fused),
                  outcome: result.equivalent ? .equivalent : .notEquivalent, seconds: seconds)
        let names = result.samples.first?.outputs.map(\.output) ?? []
        outputs = ModelCheck.figures(result, outputs: names)
        worstRelativeError = result.worstRelativeError
        intermediates = result.intermediates.map(IntermediateFigures.init)
        if let divergence = result.firstDivergence {
            firstDivergence = .init(divergence)
        }
    }

    /// One line for logs and report messages: the verdict and the figures that decided it.
    public func headline(criterion: String) -> String {
        switch outcome {
        case .equivalent:
            let inside = intermediates?.worstRelativeError.map { ", intermediates \(Self.number($0))" } ?? ""
            return "equivalent: worst rel \(Self.number(worstRelativeError ?? 0))\(inside) (\(criterion))"
        case .notEquivalent:
            var text = "NOT equivalent: worst rel \(Self.number(worstRelativeError ?? .infinity))"
            if let intermediates, intermediates.failed > 0, let worst = intermediates.worstRelativeError {
                text += ", intermediates \(Self.number(worst))"
            }
            text += " (\(criterion))"
            if let divergence = firstDivergence { text += "; first divergence at node '\(divergence.node)' (\(divergence.opType))" }
            return text
        case .error, .skipped:
            return "\(error?.message ?? "no record") [\(error?.code ?? "unknown")]"
        }
    }

    /// Every figure: per output, then the first diverging node and what it was fused from.
    public var details: String {
        var lines = outputs.map {
            "output '\($0.output)': rel \(Self.number($0.relativeError)), max abs \(Self.number($0.maxAbsoluteError))\($0.passed ? "" : " (fails)")"
        }
        if let divergence = firstDivergence {
            let origin = divergence.fusedFrom.isEmpty ? "copied unchanged from the original"
                : "fused from \(divergence.fusedFrom.joined(separator: ", "))"
            lines.append("first divergence: node '\(divergence.node)' (\(divergence.opType)) output '\(divergence.value)', "
                + "rel \(Self.number(divergence.relativeError)), max abs \(Self.number(divergence.maxAbsoluteError)); \(origin)")
        }
        if let intermediates { lines.append(intermediates.sentence) }
        if let nodes { lines.append("nodes \(nodes.before) → \(nodes.after)") }
        return lines.joined(separator: "\n")
    }

    static func number(_ value: Double) -> String { String(format: "%.2e", value) }
}

/// JUnit XML as GitLab, GitHub test reporters and Jenkins read it: `<testsuites>` holding one
/// `<testsuite>` with one `<testcase classname=ROOT name=RELATIVE-PATH time=SECONDS>` per model.
/// A not-equivalent model carries `<failure type="not-equivalent">` with the figures and the first
/// diverging node; a model that could not be checked `<error type=CODE>`; one skipped by
/// --fail-fast `<skipped>`. Only attributes of the common JUnit schema are used.
public enum JUnitReport {
    public static func document(_ records: [GateRecord], settings: GateSettings, suite: String = "ghost-convert gate") -> String {
        let tally = GateTally(records)
        let time = seconds(records.reduce(0) { $0 + $1.seconds })
        let counts = "tests=\"\(records.count)\" failures=\"\(tally.notEquivalent)\" errors=\"\(tally.errors)\""
        var xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        // `skipped` is a testsuite attribute only: the common schema does not allow it on testsuites.
        xml += "<testsuites name=\"\(escape(suite))\" \(counts) time=\"\(time)\">\n"
        xml += "  <testsuite name=\"\(escape(suite))\" \(counts) skipped=\"\(tally.skipped)\" time=\"\(time)\">\n"
        xml += "    <properties>\n"
        for (name, value) in [("criterion", settings.criterion), ("precision", settings.arithmetic.rawValue),
                              ("samples", String(settings.samples)), ("shard", settings.shard.description),
                              ("compared", settings.intermediates ? "outputs and shared intermediate values" : "outputs only")] {
            xml += "      <property name=\"\(name)\" value=\"\(escape(value))\"/>\n"
        }
        xml += "    </properties>\n"
        for record in records {
            let classname = record.root.hasSuffix("/") && record.root.count > 1 ? String(record.root.dropLast()) : record.root
            xml += "    <testcase classname=\"\(escape(classname))\" name=\"\(escape(record.path))\" time=\"\(seconds(record.seconds))\""
            let message = escape(record.headline(criterion: settings.criterion))
            switch record.outcome {
            case .equivalent:
                guard let intermediates = record.intermediates else {
                    xml += "/>\n"
                    continue
                }
                xml += ">\n      <system-out>\(escape(intermediates.sentence))</system-out>\n"
            case .notEquivalent:
                xml += ">\n      <failure message=\"\(message)\" type=\"not-equivalent\">\(escape(record.details))</failure>\n"
            case .error:
                let code = escape(record.error?.code ?? "unknown")
                let body = "[\(record.error?.code ?? "unknown")] \(record.error?.message ?? "")" + (record.details.isEmpty ? "" : "\n" + record.details)
                xml += ">\n      <error message=\"\(message)\" type=\"\(code)\">\(escape(body))</error>\n"
            case .skipped:
                xml += ">\n      <skipped message=\"\(message)\"/>\n"
            }
            xml += "    </testcase>\n"
        }
        xml += "  </testsuite>\n</testsuites>\n"
        return xml
    }

    /// Writes the document atomically.
    public static func write(_ records: [GateRecord], settings: GateSettings, suite: String = "ghost-convert gate", to path: String) throws {
        try writeAtomically(Array(document(records, settings: settings, suite: suite).utf8), to: path)
    }

    /// `verify --junit`: one testcase, named by the fused file, classname `verify`.
    public static func writeVerify(original: String, fused: String, result: VerificationResult, since start: ContinuousClock.Instant,
                                   tolerance: Tolerance, precision: String, samples: Int, to path: String) throws {
        var record = GateRecord(original: original, fused: fused, result: result, seconds: ModelCheck.seconds(since: start))
        record.root = "verify"
        record.path = fused
        var settings = GateSettings(tolerance: 0, arithmetic: precision == "f32" ? .f32 : .f64, samples: samples,
                                    intermediates: result.intermediates != nil)
        switch tolerance {
        case .relative(let bound):
            settings.tolerance = bound
            settings.criterion = "tolerance \(number(bound))"
        case .allclose(let atol, let rtol):
            settings.criterion = "atol \(number(atol)), rtol \(number(rtol))"
        }
        try write([record], settings: settings, suite: "ghost-convert verify \(original)", to: path)
    }

    /// Text safe in XML 1.0 content and attribute values: markup characters as entities, line
    /// breaks and tabs as character references (attribute normalization would eat them), and the
    /// control characters XML 1.0 cannot hold at all as U+FFFD.
    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\n": out += "&#10;"
            case "\r": out += "&#13;"
            case "\t": out += "&#9;"
            default:
                if scalar.value < 0x20 || scalar.value == 0xFFFE || scalar.value == 0xFFFF {
                    out.unicodeScalars.append("\u{FFFD}")
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }

    static func seconds(_ value: Double) -> String { String(format: "%.3f", value) }
    static func number(_ value: Double) -> String { String(format: "%g", value) }
}

/// The Markdown table appended to `$GITHUB_STEP_SUMMARY`: one row per model that did not pass
/// first, then the passing ones.
public enum MarkdownSummary {
    public static func table(_ records: [GateRecord], settings: GateSettings) -> String {
        let tally = GateTally(records)
        var lines = ["### ghost-convert gate\(settings.shard.count > 1 ? " (shard \(settings.shard))" : ""): \(tally.sentence)", "",
                     "\(settings.criterion.prefix(1).uppercased() + settings.criterion.dropFirst()), \(settings.arithmetic.rawValue), \(settings.samples) sample\(settings.samples == 1 ? "" : "s") per model.", "",
                     "| model | outcome | nodes | worst rel | seconds | detail |", "|---|---|---|---:|---:|---|"]
        let order: [GateOutcome] = [.error, .notEquivalent, .skipped, .equivalent]
        for outcome in order {
            for record in records where record.outcome == outcome {
                let nodes = record.nodes.map { "\($0.before) → \($0.after)" } ?? ""
                let worst = record.worstRelativeError.map(GateRecord.number) ?? ""
                let detail: String = switch record.outcome {
                case .equivalent: ""
                case .notEquivalent: record.firstDivergence.map { "first divergence: `\($0.node)` (\($0.opType))" } ?? ""
                case .error, .skipped: "`\(record.error?.code ?? "")` \(record.error?.message ?? "")"
                }
                let mark = switch record.outcome {
                case .equivalent: "✅ equivalent"
                case .notEquivalent: "❌ NOT equivalent"
                case .error: "⚠️ error"
                case .skipped: "⏭ skipped"
                }
                lines.append("| `\(cell(record.path))` | \(mark) | \(nodes) | \(worst) | \(String(format: "%.2f", record.seconds)) | \(cell(detail)) |")
            }
        }
        return lines.joined(separator: "\n") + "\n\n"
    }

    /// Appends the table to `path` (GitHub's step summary file), creating it if missing.
    public static func append(_ records: [GateRecord], settings: GateSettings, to path: String) throws {
        if !FileManager.default.fileExists(atPath: path) {
            _ = FileManager.default.createFile(atPath: path, contents: nil)
        }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(table(records, settings: settings).utf8))
    }

    static func cell(_ text: String) -> String {
        text.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ")
    }
}

/// The `--json` file: the records, keys sorted.
public enum JSONReport {
    public static func data(_ records: [GateRecord]) throws -> Data {
        let encoder = GateRecord.encoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(records)
    }

    public static func write(_ records: [GateRecord], to path: String) throws {
        try writeAtomically([UInt8](try data(records)), to: path)
    }

    public static func read(_ path: String) throws -> [GateRecord] {
        try GateRecord.decoder().decode([GateRecord].self, from: Data(contentsOf: URL(fileURLWithPath: path)))
    }
}

func writeAtomically(_ bytes: [UInt8], to path: String) throws {
    let file = try PendingFile(destination: path)
    try file.write(bytes)
    try file.commit()
}
