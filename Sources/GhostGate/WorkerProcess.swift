import Foundation

/// One model checked in a child process, so that a model that crashes the interpreter (or is
/// killed for its memory) costs only its own record.
public enum WorkerProcess {
    /// Runs `executable arguments… --configuration JSON --entry JSON` and reads the record it prints.
    /// A worker still running after `timeout` seconds is stopped — SIGTERM (the tool's handler
    /// removes its temporary files), SIGKILL two seconds later — and its record is a `timeout`
    /// error: the model could not be checked, the other workers go on.
    static func run(_ entry: ModelEntry, configuration: GateConfiguration, executable: URL, arguments: [String],
                    timeout: Double? = nil) -> GateRecord {
        let encoder = GateRecord.encoder()
        let process = Process()
        process.executableURL = executable
        do {
            process.arguments = arguments + [
                "--configuration", String(decoding: try encoder.encode(configuration), as: UTF8.self),
                "--entry", String(decoding: try encoder.encode(entry), as: UTF8.self),
            ]
        } catch {
            return GateRecord(entry: entry, outcome: .error, error: GateError(error))
        }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        let exited = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in exited.signal() }
        do {
            try process.run()
        } catch {
            return GateRecord(entry: entry, outcome: .error,
                              error: GateError(code: "worker-failed", message: "cannot start the worker \(executable.path): \(error.localizedDescription)"))
        }
        // Both pipes are drained at once so a chatty worker cannot fill one and stall.
        let output = Locked(Data()), errorText = Locked(Data())
        let drained = DispatchGroup()
        for (pipe, sink) in [(out, output), (err, errorText)] {
            drained.enter()
            DispatchQueue.global().async {
                sink.set(pipe.fileHandleForReading.readDataToEndOfFile())
                drained.leave()
            }
        }
        var timedOut = false
        if let timeout, exited.wait(timeout: .now() + max(timeout, 0)) == .timedOut {
            timedOut = true
            kill(process.processIdentifier, SIGTERM)
            if exited.wait(timeout: .now() + 2) == .timedOut {
                kill(process.processIdentifier, SIGKILL)
                exited.wait()
            }
        } else if timeout == nil {
            exited.wait()
        }
        // A grandchild could hold the pipes open after the worker died: do not wait on it for long.
        _ = drained.wait(timeout: .now() + (timedOut ? 5 : 60))
        process.waitUntilExit()
        var record = record(entry: entry, output: output.value, errorOutput: errorText.value,
                            reason: process.terminationReason, status: process.terminationStatus)
        if timedOut, record.outcome == .error {
            record.error = GateError(code: "timeout", message: "the worker checking \(entry.path) did not finish within "
                + "\(String(format: "%g", timeout ?? 0)) s (--timeout) and was stopped")
        }
        return record
    }

    static func record(entry: ModelEntry, output: Data, errorOutput: Data, reason: Process.TerminationReason, status: Int32) -> GateRecord {
        let tail = lastLines(of: errorOutput)
        if reason == .uncaughtSignal {
            let name = strsignal(status).map { String(cString: $0) } ?? "signal \(status)"
            return GateRecord(entry: entry, outcome: .error, error: GateError(
                code: "worker-crashed",
                message: "the worker checking \(entry.path) died of signal \(status) (\(name))" + (tail.isEmpty ? "" : ": \(tail)")))
        }
        if status == 0, let line = output.split(separator: UInt8(ascii: "\n")).last,
           let record = try? GateRecord.decoder().decode(GateRecord.self, from: Data(line)) {
            return record
        }
        return GateRecord(entry: entry, outcome: .error, error: GateError(
            code: "worker-failed",
            message: "the worker checking \(entry.path) exited with status \(status) without a record" + (tail.isEmpty ? "" : ": \(tail)")))
    }

    private static func lastLines(of data: Data) -> String {
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return String(text.split(separator: "\n").suffix(3).joined(separator: " / ").suffix(400))
    }

    /// The worker's side: check the model given on the command line and print its record.
    public static func serve(configuration: String, entry: String) throws -> String {
        let decoder = GateRecord.decoder()
        let configuration = try decoder.decode(GateConfiguration.self, from: Data(configuration.utf8))
        let entry = try decoder.decode(ModelEntry.self, from: Data(entry.utf8))
        let record = ModelCheck.run(entry, configuration: configuration)
        return String(decoding: try GateRecord.encoder().encode(record), as: UTF8.self)
    }
}

final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Value
    init(_ value: Value) { stored = value }
    var value: Value { lock.withLock { stored } }
    func set(_ value: Value) { lock.withLock { stored = value } }
}
