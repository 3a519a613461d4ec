import ArgumentParser
import Foundation
import GhostDot
import GhostIR

struct GraphCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "graph",
        abstract: "Draw a model's graph as Graphviz DOT or SVG.",
        discussion: """
            Operators are boxes, inputs and outputs ellipses, edges carry declared shapes. Nodes \
            made by fusion are filled and list what they absorbed; give the original model with \
            --fused-from to name the absorbed operators by type. SVG needs Graphviz's `dot` \
            (Debian: apt-get install graphviz).

            Examples:
              ghost-convert graph model.onnx --format dot > model.dot
              ghost-convert graph fused.gwt --fused-from model.onnx --format svg --output fused.svg
            """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable { case dot, svg }

    @Argument(help: "The model to draw (.onnx or .gwt).")
    var model: String

    @Option(help: "dot or svg.")
    var format: Format = .dot

    @Option(help: "The original model the drawn one was fused from.")
    var fusedFrom: String?

    @Option(help: "Write here instead of stdout.")
    var output: String?

    func run() throws {
        let loaded = try ModelFile.load(model)
        let graph = loaded.graph
        var files = CommandFiles()
        files.reads(model: model, externalData: loaded.externalData, as: "MODEL")
        let originalModel = try fusedFrom.map { try ModelFile.load($0) }
        if let fusedFrom, let originalModel { files.reads(model: fusedFrom, externalData: originalModel.externalData, as: "--fused-from") }
        if let output { try files.writes(output, as: "--output") }
        let original = originalModel?.graph
        let dot = GraphDot.render(graph, original: original, title: PathText.name(of: model))
        let bytes: [UInt8] = format == .dot ? Array(dot.utf8) : try Self.svg(from: dot)
        if let output {
            let file = try PendingFile(destination: output)
            try file.write(bytes)
            try file.commit()
        } else {
            FileHandle.standardOutput.write(Data(bytes))
        }
    }

    static func svg(from dot: String) throws -> [UInt8] {
        let candidates = ["/usr/bin/dot", "/usr/local/bin/dot"]
        guard let executable = candidates.first(where: FileManager.default.isExecutableFile(atPath:)) else {
            throw CommandError.graphvizMissing
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["-Tsvg"]
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        do {
            try process.run()
            input.fileHandleForWriting.write(Data(dot.utf8))
            try input.fileHandleForWriting.close()
        } catch {
            throw CommandError.graphvizFailed(reason: "cannot start \(executable): \(error.localizedDescription)")
        }
        let svg = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw CommandError.graphvizFailed(reason: "it exited with \(process.terminationStatus)")
        }
        return [UInt8](svg)
    }
}
