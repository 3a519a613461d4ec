import ArgumentParser
import Foundation
import GhostIR
import GhostONNX

struct Convert: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Rewrite a model in another form without changing what it computes.",
        discussion: """
            Loads the model, checks it, and writes it again. Use it to move weights into an \
            external data file (or back inline), or to normalize a file before comparing it. \
            The output is written atomically: on any error nothing is left at OUTPUT.

            Examples:
              ghost-convert convert big.onnx big-external.onnx --external-data always
              ghost-convert convert model.onnx copy.onnx
            """
    )

    enum ExternalDataChoice: String, ExpressibleByArgument, CaseIterable {
        case auto, always, never
    }

    @Argument(help: "The model to read (.onnx).")
    var input: String

    @Argument(help: "Where to write the model (.onnx).")
    var output: String

    @Option(help: "Where weights go: auto (inline unless over 2 GB), always (tensors of 1 KiB or more to OUTPUT.data), never.")
    var externalData: ExternalDataChoice = .auto

    func validate() throws {
        guard output.hasSuffix(".onnx") else {
            throw ValidationError("OUTPUT must end in .onnx ('\(output)'); .gwt output arrives with the .gwt format")
        }
        try OutputPath.refuseOverwritingInput(input: input, output: output)
    }

    func run() async throws {
        let loaded = try ONNXModelLoader.load(path: input)
        let policy: ExternalDataPolicy = switch externalData {
        case .auto: .automatic
        case .always: .always(threshold: 1024)
        case .never: .never
        }
        try ONNXWriter.write(loaded.graph, to: output, externalData: policy)
    }
}

enum OutputPath {
    /// Writing over the input (by name or through another path to the same file) would destroy
    /// it if anything failed, so it is refused outright.
    static func refuseOverwritingInput(input: String, output: String) throws {
        var inputStatus = stat()
        var outputStatus = stat()
        guard stat(input, &inputStatus) == 0, stat(output, &outputStatus) == 0 else { return }
        if inputStatus.st_dev == outputStatus.st_dev, inputStatus.st_ino == outputStatus.st_ino {
            throw ValidationError("OUTPUT '\(output)' is the input file; choose another path")
        }
    }
}
