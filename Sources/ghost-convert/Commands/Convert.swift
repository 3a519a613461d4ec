import ArgumentParser
import Foundation
import GhostGWT
import GhostIR
import GhostONNX

struct Convert: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Rewrite a model in another form without changing what it computes.",
        discussion: """
            Loads the model (.onnx or .gwt), checks it, and writes it in the format OUTPUT's \
            extension names. Use it to export a fused .gwt back to ONNX, to move ONNX weights \
            into an external data file (or back inline), or to normalize a file before comparing \
            it. The output is written atomically: on any error nothing is left at OUTPUT.

            Examples:
              ghost-convert convert fused.gwt fused.onnx
              ghost-convert convert big.onnx big-external.onnx --external-data always
            """
    )

    enum ExternalDataChoice: String, ExpressibleByArgument, CaseIterable {
        case auto, always, never
    }

    @Argument(help: "The model to read (.onnx or .gwt).")
    var input: String

    @Argument(help: "Where to write the model (.onnx or .gwt).")
    var output: String

    @Option(help: "For .onnx output, where weights go: auto (inline unless over 2 GB), always (tensors of 1 KiB or more to OUTPUT.data), never.")
    var externalData: ExternalDataChoice = .auto

    func validate() throws {
        _ = try ModelFile.outputFormat(output)
    }

    func run() throws {
        let loaded = try ModelFile.load(input)
        var files = CommandFiles()
        files.reads(model: input, externalData: loaded.externalData, as: "INPUT")
        try ModelFile.recordWrites(of: output, as: "OUTPUT", in: &files)
        let policy: ExternalDataPolicy = switch externalData {
        case .auto: .automatic
        case .always: .always(threshold: 1024)
        case .never: .never
        }
        // A .gwt keeps the provenance of the model it came from; an ONNX input is its own source.
        var metadata = loaded.gwtMetadata
        if metadata == nil {
            metadata = GWTMetadata(tool: "ghost-convert \(GhostConvertVersion.string)", sourceSha256: try FileDigest.sha256(path: input),
                                   sourceFile: PathText.name(of: input))
        }
        try ModelFile.write(loaded.graph, to: output, metadata: metadata!, externalData: policy)
    }
}
