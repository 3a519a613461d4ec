import Foundation
import GhostIR
import GhostVerify

/// What `verify` tells the user: one summary line (plus the divergence, if any) and the
/// --report JSON (keys documented in docs/cli.md).
struct VerifyReport: Codable {
    var original: String
    var fused: String
    var precision: String
    var tolerance: Tolerance
    var samples: Int
    var equivalent: Bool
    var worstRelativeError: Double
    var results: [SampleResult]
    var firstDivergence: Divergence?
    /// The intermediate check (absent with --outputs-only).
    var intermediates: IntermediateCheck?

    init(original: String, fused: String, precision: String, tolerance: Tolerance, samples: Int, result: VerificationResult) {
        self.original = original
        self.fused = fused
        self.precision = precision
        self.tolerance = tolerance
        self.samples = samples
        equivalent = result.equivalent
        worstRelativeError = result.worstRelativeError
        results = result.samples
        firstDivergence = result.firstDivergence
        intermediates = result.intermediates
    }

    var text: String {
        let outputs = results.first?.outputs.count ?? 0
        let criterion: String = switch tolerance {
        case .relative(let bound): "tolerance \(format(bound))"
        case .allclose(let atol, let rtol): "atol \(format(atol)), rtol \(format(rtol))"
        }
        var lines = ["\(equivalent ? "equivalent" : "NOT equivalent"): \(fused) vs \(original) — worst rel error "
            + "\(format(worstRelativeError)) over \(samples) sample\(samples == 1 ? "" : "s") × \(outputs) output\(outputs == 1 ? "" : "s") "
            + "(\(criterion), \(precision))"]
        for sample in results {
            for output in sample.outputs where !output.passed {
                let c = output.comparison
                lines.append("  sample \(sample.sample), output '\(output.output)': rel \(format(c.relativeError)), max abs \(format(c.maxAbsoluteError)), "
                    + "cosine \(String(format: "%.9f", c.cosineSimilarity)), worst at \(c.worstIndex): \(c.expectedAtWorst) vs \(c.actualAtWorst)")
            }
        }
        if let check = intermediates {
            var line = "  \(check.compared) intermediate value\(check.compared == 1 ? "" : "s") compared"
            if let worst = check.worst {
                line += ", worst rel \(format(worst.comparison.relativeError)) at '\(worst.value)' (node '\(worst.node)', sample \(worst.sample))"
            }
            if check.failed > 0 { line += ", \(check.failed) past the tolerance" }
            if check.skippedDownstreamOfSelection > 0 {
                line += "; \(check.skippedDownstreamOfSelection) downstream of a selection skipped"
            }
            lines.append(line)
        }
        if let divergence = firstDivergence {
            let origin = divergence.fusedFrom.isEmpty ? "copied unchanged from the original" : "fused from \(divergence.fusedFrom.joined(separator: ", "))"
            lines.append("  first divergence: node '\(divergence.node)' (\(divergence.opType)) output '\(divergence.value)', "
                + "rel \(format(divergence.comparison.relativeError)); \(origin)")
            if divergence.isSelection {
                lines.append("  the first divergence is at a data-dependent selection (\(divergence.opType) '\(divergence.node)'): two equivalent "
                    + "graphs can select different elements on rounding alone. Compare the values it selects from instead, "
                    + "with --compare NAME (for example the input of '\(divergence.node)').")
            }
        }
        return lines.joined(separator: "\n")
    }

    func write(to path: String) throws(ReportError) {
        try ReportJSON.write(self, to: path)
    }

    private func format(_ value: Double) -> String { String(format: "%.3e", value) }
}
