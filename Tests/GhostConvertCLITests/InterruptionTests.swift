import Foundation
import GhostIR
import GhostONNX
import Testing
import TestSupport

/// A model large enough that writing it takes a while: one 48 MiB Conv weight.
private func writeLargeModel(to path: String) throws {
    var initializers = InitializerTable()
    let count = 3 * 1024 * 4096
    initializers["W"] = try Tensor(float32: [Float](repeating: 0.5, count: count), shape: [4096, 3, 32, 32])
    let graph = Graph(
        name: "large",
        inputs: [Value(name: "x", elementType: .float32, shape: [.fixed(1), .fixed(3), .fixed(32), .fixed(32)])],
        outputs: [Value(name: "y", elementType: .float32)],
        initializers: initializers,
        nodes: [Node(name: "Conv_0", opType: "Conv", inputs: ["x", "W"], outputs: ["y"])],
        opsetImports: [OpsetImport(domain: "", version: 17)])
    try ONNXWriter.write(graph, to: path, externalData: .always(threshold: 1024))
}

/// SIGTERM or SIGINT while the output is being written: exit 143 / 130 and no temporary file
/// left. The signal is sent once the temporary file exists; a run that finished first is
/// retried, and at least one run must have been interrupted.
@Test(arguments: [(SIGTERM, Int32(143)), (SIGINT, Int32(130)), (SIGHUP, Int32(129))])
func interruptedWritesLeaveNothingBehind(_ signalAndStatus: (Int32, Int32)) throws {
    let (signalNumber, expectedStatus) = signalAndStatus
    let directory = try temporaryDirectory("cli")
    defer { try? FileManager.default.removeItem(at: directory) }
    let model = directory.appendingPathComponent("large.onnx").path
    try writeLargeModel(to: model)
    var interrupted = 0
    for attempt in 0..<6 where interrupted == 0 {
        let output = directory.appendingPathComponent("out\(attempt).gwt").path
        let process = Process()
        process.executableURL = CLI.executable
        process.arguments = ["convert", model, output]
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Wait for the temporary file, then signal.
        let deadline = Date().addingTimeInterval(20)
        while process.isRunning, Date() < deadline {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
            if names.contains(where: { $0.hasPrefix(".out\(attempt).gwt.tmp-") }) {
                kill(process.processIdentifier, signalNumber)
                break
            }
            usleep(50)
        }
        process.waitUntilExit()
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        #expect(!names.contains { $0.hasPrefix(".") }, "temporary files left: \(names)")
        if process.terminationReason == .exit && process.terminationStatus == expectedStatus {
            interrupted += 1
            #expect(!FileManager.default.fileExists(atPath: output))
        } else {
            #expect(process.terminationReason == .exit && process.terminationStatus == 0,
                    "ended by \(process.terminationReason) \(process.terminationStatus)")
        }
    }
    #expect(interrupted >= 1, "no run was interrupted while writing")
}

/// Litter of a process killed by SIGKILL (a temporary file named with a PID that no longer runs)
/// is removed by the next write to the same destination; a live process's file is kept.
@Test func staleTemporaryFilesOfDeadProcessesAreRemoved() throws {
    let directory = try temporaryDirectory("cli")
    defer { try? FileManager.default.removeItem(at: directory) }
    let model = directory.appendingPathComponent("small.onnx").path
    try CLI.writeSmallModel(to: model)
    // A PID that is not running: a finished child's.
    let child = Process()
    child.executableURL = URL(fileURLWithPath: "/bin/true")
    try child.run()
    child.waitUntilExit()
    let dead = directory.appendingPathComponent(".out.gwt.tmp-\(child.processIdentifier)-abcdef").path
    let alive = directory.appendingPathComponent(".out.gwt.tmp-\(getpid())-ghijkl").path
    #expect(FileManager.default.createFile(atPath: dead, contents: Data(repeating: 1, count: 100)))
    #expect(FileManager.default.createFile(atPath: alive, contents: Data(repeating: 1, count: 100)))
    let result = try CLI.run(["fuse", model, directory.appendingPathComponent("out.gwt").path])
    #expect(result.status == 0, "\(result.stderr)")
    #expect(!FileManager.default.fileExists(atPath: dead))
    #expect(FileManager.default.fileExists(atPath: alive))
}

/// An input that shrinks while the tool reads it is a typed error or an ordinary result (when it
/// was read before it shrank), never a signal: the mapped external data is truncated at
/// different moments of a run.
@Test func truncatedInputsNeverEndInASignal() throws {
    let directory = try temporaryDirectory("cli")
    defer { try? FileManager.default.removeItem(at: directory) }
    let model = directory.appendingPathComponent("large.onnx").path
    var outcomes: [String] = []
    for delay: useconds_t in [0, 2_000, 10_000, 30_000, 60_000, 120_000] {
        try? FileManager.default.removeItem(atPath: model)
        try? FileManager.default.removeItem(atPath: model + ".data")
        try writeLargeModel(to: model)
        let output = directory.appendingPathComponent("out.gwt").path
        let process = Process()
        process.executableURL = CLI.executable
        process.arguments = ["fuse", model, output]
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        usleep(delay)
        #expect(truncate(model + ".data", 4096) == 0)
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationReason == .exit, "delay \(delay): killed by signal \(process.terminationStatus)")
        #expect([0, 2].contains(process.terminationStatus), "delay \(delay): exit \(process.terminationStatus) \(message)")
        if process.terminationStatus == 2 {
            #expect(message.contains("[file-changed]") || message.contains("[external-data]"), "\(message)")
            #expect(!FileManager.default.fileExists(atPath: output))
        }
        outcomes.append("\(process.terminationStatus)")
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        #expect(!names.contains { $0.hasPrefix(".") }, "delay \(delay), exit \(process.terminationStatus) \(message): temporary files left: \(names)")
        try? FileManager.default.removeItem(atPath: output)
    }
    print("truncation outcomes by delay: \(outcomes)")
}
