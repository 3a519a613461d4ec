import Foundation
import GhostIR
import GhostNumPy
import GhostONNX
import TestSupport

/// Runs the built ghost-convert executable and captures what it prints.
struct CLIResult {
    let status: Int32
    let stdout: String
    let stderr: String
}

enum CLI {
    /// The executable sits beside the test bundle in the build products directory.
    static var executable: URL {
        let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .appendingPathComponent("ghost-convert")
        if FileManager.default.isExecutableFile(atPath: beside.path) { return beside }
        return repositoryRoot.appendingPathComponent(".build/debug/ghost-convert")
    }

    static func run(_ arguments: [String]) throws -> CLIResult {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Read before waiting so a large output cannot fill the pipe and stall the child.
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return CLIResult(status: process.terminationStatus,
                         stdout: String(decoding: stdout, as: UTF8.self),
                         stderr: String(decoding: stderr, as: UTF8.self))
    }

    /// A float32 .npy file.
    static func writeNPY(float32 values: [Float], shape: [Int], to path: String) throws {
        try NumPyFile.write(try Tensor(float32: values, shape: shape), to: path)
    }

    /// A small valid model written with the library: x → Conv → Relu → y.
    static func writeSmallModel(to path: String) throws {
        var initializers = InitializerTable()
        initializers["W"] = try Tensor(float32: (0..<24).map { Float($0) }, shape: [2, 3, 2, 2])
        let graph = Graph(
            name: "small",
            inputs: [Value(name: "x", elementType: .float32, shape: [.symbolic("N"), .fixed(3), .fixed(4), .fixed(4)])],
            outputs: [Value(name: "y", elementType: .float32)],
            initializers: initializers,
            nodes: [Node(name: "Conv_0", opType: "Conv", inputs: ["x", "W"], outputs: ["c"]),
                    Node(name: "Relu_1", opType: "Relu", inputs: ["c"], outputs: ["y"])],
            metadata: ModelMetadata(producerName: "cli-tests", producerVersion: "1"))
        try ONNXWriter.write(graph, to: path)
    }
}
