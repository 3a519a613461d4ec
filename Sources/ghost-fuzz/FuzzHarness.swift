import Foundation
import GhostGWT
import GhostIR
import GhostNumPy
import GhostONNX

/// What one fuzz input is fed to, chosen by GHOST_FUZZ_TARGET (onnx, gwt, gwt-unchecked, npy,
/// attributes).
///
/// Each input is written to a file in a private temporary directory and read through the same
/// path-based, memory-mapping entry points the tool uses, so the fuzzer exercises exactly the code
/// a user's file meets. Any thrown error is an acceptable outcome; a crash, trap, sanitizer report
/// or hang is a bug.
final class FuzzHarness {
    enum Target: String, CaseIterable {
        case onnx, gwt
        /// .gwt with checksum verification off: random mutations rarely keep crc32s valid, so
        /// this is how the fuzzer reaches the JSON, tensor and graph rules behind them.
        case gwtUnchecked = "gwt-unchecked"
        /// The .npy reader `run` and `verify` use for `--input` arrays.
        case npy
        /// Not a reader: the bytes choose a one-node graph and extreme attributes for it, which
        /// the interpreter runs (see `AttributeFuzzing`).
        case attributes

        var fileExtension: String {
            switch self {
            case .onnx: "onnx"
            case .gwt, .gwtUnchecked: "gwt"
            case .npy: "npy"
            case .attributes: "bin"
            }
        }
    }

    let target: Target
    private let path: String

    init(target: Target) {
        self.target = target
        // 2²⁰ elements instead of 2³¹: what is refused past the limit is the same code path, and
        // a legal tensor stays far below libFuzzer's 4 GB malloc limit and its 10 s timeout (a
        // 2-million-element Pad takes longer than that under AddressSanitizer in a debug build).
        if target == .attributes { setenv("GHOST_MAX_ELEMENTS", "1048576", 0) }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ghost-fuzz-\(getpid())")
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        path = directory.appendingPathComponent("input.\(target.fileExtension)").path
    }

    static func fromEnvironment() -> FuzzHarness {
        let name = ProcessInfo.processInfo.environment["GHOST_FUZZ_TARGET"] ?? "onnx"
        guard let target = Target(rawValue: name) else {
            FileHandle.standardError.write(Data("GHOST_FUZZ_TARGET must be one of \(Target.allCases.map(\.rawValue))\n".utf8))
            exit(2)
        }
        return FuzzHarness(target: target)
    }

    /// Feeds one input; returns a one-line outcome ("ok" or the error's code).
    @discardableResult
    func run(_ bytes: UnsafeRawBufferPointer) -> String {
        if target == .attributes { return AttributeFuzzing.run(bytes) }  // decisions, not a file
        guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else { return "cannot write input" }
        do {
            switch target {
            case .onnx:
                let graph = try ONNXModelLoader.load(path: path).graph
                exercise(graph)
            case .gwt:
                exercise(try GWTReader.read(path: path).graph)
            case .gwtUnchecked:
                exercise(try GWTReader.read(path: path, verifyChecksums: false).graph)
            case .npy:
                let tensor = try NumPyFile.read(path: path)
                // Reading back every element and re-encoding touches the whole decoded buffer.
                let sum = tensor.storage.bytes.reduce(0) { $0 &+ Int($1) }
                _ = try NumPyFile.encode(tensor)
                if sum == Int.min { print("unreachable") }
            case .attributes:
                break  // handled above: its bytes are decisions, not a file
            }
            return "ok"
        } catch let error as CodedError {
            return error.code
        } catch {
            // Every reader error is coded; anything else is worth a look, so name its type.
            return "uncoded \(type(of: error)): \(error.localizedDescription)"
        }
    }

    /// Touches what a loaded graph offers, so lazily wrong views would be read.
    private func exercise(_ graph: Graph) {
        var checksum = 0
        for entry in graph.initializers {
            checksum &+= entry.tensor.storage.bytes.reduce(0) { $0 &+ Int($1) }
        }
        _ = GraphSummary(graph)
        _ = try? graph.topologicalOrder()
        if checksum == Int.min { print("unreachable") }
    }
}
