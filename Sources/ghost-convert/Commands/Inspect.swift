import ArgumentParser
import Foundation
import GhostGWT
import GhostIR
import GhostONNX

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Describe a model: opsets, inputs and outputs, operators and weights.",
        discussion: """
            Loads the model (checking its structure the way every other command does) and prints \
            its opsets, producer, inputs and outputs with shapes, node count, a histogram of \
            operator types, parameter count and bytes, and any external data files.

            With --json, prints one JSON object instead (keys are documented in docs/cli.md).

            Examples:
              ghost-convert inspect Models/ghostnet_100/model.onnx
              ghost-convert inspect model.onnx --json | jq .opHistogram
            """
    )

    @Argument(help: "The model to describe (.onnx or .gwt).")
    var model: String

    @Flag(help: "Print a JSON object instead of text.")
    var json = false

    func run() throws {
        let loaded = try ModelFile.load(model)
        let report = InspectReport(file: model, loaded: loaded)
        if json {
            print(String(decoding: try ReportJSON.encode(report, for: "inspect --json"), as: UTF8.self))
        } else {
            print(report.text)
        }
    }
}

/// What `inspect` reports: the graph summary plus facts about the file.
struct InspectReport: Codable {
    struct ExternalFile: Codable {
        var location: String
        var bytes: Int
    }

    var file: String
    var format: ModelFile.Format
    var fileBytes: Int
    var externalData: [ExternalFile]
    var graph: GraphSummary
    /// For .gwt files: the tool, source model digest and passes that produced it.
    var gwt: GWTMetadata?

    init(file: String, loaded: ModelFile.Loaded) {
        self.file = file
        format = loaded.format
        fileBytes = loaded.fileBytes
        externalData = loaded.externalData.sorted { $0.key < $1.key }
            .map { ExternalFile(location: $0.key, bytes: $0.value) }
        graph = GraphSummary(loaded.graph)
        gwt = loaded.gwtMetadata
    }

    var text: String {
        var lines: [String] = []
        lines.append("\(file) (\(format), \(ByteCountText.format(fileBytes)))")
        lines.append("  producer:     \(graph.producer.isEmpty ? "(not recorded)" : graph.producer), IR version \(graph.irVersion)")
        lines.append("  opsets:       " + graph.opsets.map { "\($0.domain.isEmpty ? "ai.onnx" : $0.domain) \($0.version)" }.joined(separator: ", "))
        for input in graph.inputs { lines.append("  input:        \(describe(input))") }
        for output in graph.outputs { lines.append("  output:       \(describe(output))") }
        lines.append("  nodes:        \(graph.nodeCount)")
        lines.append("  parameters:   \(graph.parameterCount) in \(graph.initializerCount) initializers (\(ByteCountText.format(graph.parameterBytes)))")
        if let gwt {
            lines.append("  fused by:     \(gwt.tool) from \(gwt.sourceFile) (sha256 \(gwt.sourceSha256.prefix(16))…)")
            let passes = gwt.passes.filter { $0.rewrites > 0 }.map { "\($0.name) ×\($0.rewrites)" }
            lines.append("  passes:       \(passes.isEmpty ? "none rewrote anything" : passes.joined(separator: ", "))")
        }
        for file in externalData {
            lines.append("  external:     \(file.location) (\(ByteCountText.format(file.bytes)) referenced)")
        }
        lines.append("  operators:")
        let histogram = graph.opHistogram.sorted { ($1.value, $0.key) < ($0.value, $1.key) }
        for (op, count) in histogram {
            lines.append("    \(op.padding(toLength: max(op.count, 24), withPad: " ", startingAt: 0)) \(count)")
        }
        return lines.joined(separator: "\n")
    }

    private func describe(_ value: GraphSummary.ValueSummary) -> String {
        "\(value.name): \(value.elementType ?? "?")" + (value.shape.map { "[\($0.joined(separator: ", "))]" } ?? "")
    }
}

enum ByteCountText {
    static func format(_ bytes: Int) -> String {
        let units = ["B", "KB", "MB", "GB", "TB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1000, unit < units.count - 1 {
            value /= 1000
            unit += 1
        }
        return unit == 0 ? "\(bytes) B" : "\(String(format: "%.1f", value)) \(units[unit])"
    }
}
