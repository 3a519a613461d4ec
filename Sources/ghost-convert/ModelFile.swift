import ArgumentParser
import Foundation
import GhostGWT
import GhostIR
import GhostONNX

/// Reading and writing models by file kind: the only place the CLI chooses between ONNX and .gwt.
/// Inputs are recognised by their first bytes (a .gwt file starts with its magic), outputs by the
/// extension the user chose.
enum ModelFile {
    enum Format: String, Codable {
        case onnx, gwt
    }

    struct Loaded {
        let graph: Graph
        let format: Format
        let fileBytes: Int
        let externalData: [String: Int]
        let gwtMetadata: GWTMetadata?
    }

    static func load(_ path: String) throws -> Loaded {
        if try startsWithGWTMagic(path) {
            let model = try GWTReader.read(path: path)
            return Loaded(graph: model.graph, format: .gwt, fileBytes: model.fileBytes, externalData: [:], gwtMetadata: model.metadata)
        }
        let model = try ONNXModelLoader.load(path: path)
        return Loaded(graph: model.graph, format: .onnx, fileBytes: model.source.fileBytes,
                      externalData: model.source.externalData, gwtMetadata: nil)
    }

    /// The output format named by `path`'s extension.
    static func outputFormat(_ path: String) throws -> Format {
        if path.hasSuffix(".gwt") { return .gwt }
        if path.hasSuffix(".onnx") { return .onnx }
        throw ValidationError("OUTPUT '\(path)' must end in .onnx or .gwt")
    }

    /// Records the files writing a model to `path` may create: the file, and for ONNX the
    /// external data file beside it (`OUTPUT.data`).
    static func recordWrites(of path: String, as role: String, in files: inout CommandFiles) throws {
        try files.writes(path, as: role)
        if try outputFormat(path) == .onnx { try files.writes(path + ".data", as: "\(role)'s external data") }
    }

    static func write(_ graph: Graph, to path: String, metadata: GWTMetadata, externalData: ExternalDataPolicy = .automatic) throws {
        switch try outputFormat(path) {
        case .gwt: try GWTWriter.write(graph, metadata: metadata, to: path)
        case .onnx: try ONNXWriter.write(graph, to: path, externalData: externalData)
        }
    }

    /// Through the same mapping the readers use (never blocking on a FIFO); any file it cannot
    /// map is left to the ONNX loader, whose error names the problem.
    private static func startsWithGWTMagic(_ path: String) throws -> Bool {
        guard let mapping = try? MappedFile(path: path), mapping.bytes.count >= 8 else { return false }
        return Array(mapping.bytes.prefix(8)) == [0x89, 0x47, 0x57, 0x54, 0x0D, 0x0A, 0x1A, 0x0A]
    }
}
