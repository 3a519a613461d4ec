import Foundation
import GhostGate
import Testing
import TestSupport

/// A worker that outlives `timeout` is stopped and its model recorded as a `timeout` error (exit
/// 2: could not be checked); the other model's worker, which answers at once, is unaffected.
/// The workers are a shell script: one hangs (the entry names "hang"), the other prints a record.
@Test func aHungWorkerTimesOutAndTheRestContinue() throws {
    let root = try temporaryDirectory("gate-timeout")
    defer { try? FileManager.default.removeItem(at: root) }
    let quick = ModelEntry(root: root.path, relativePath: "quick/model.onnx", path: root.path + "/quick/model.onnx")
    let hung = ModelEntry(root: root.path, relativePath: "hang/model.onnx", path: root.path + "/hang/model.onnx")
    var answer = GateRecord(entry: quick, outcome: .equivalent)
    answer.worstRelativeError = 1e-7
    let recordFile = root.appendingPathComponent("record.json")
    try JSONEncoder().encode(answer).write(to: recordFile)
    // `exec` so that stopping the shell stops the sleep that holds the pipes.
    let script = "case \"$*\" in *hang/model*) exec sleep 60;; esac; cat '\(recordFile.path)'"
    let gate = Gate(configuration: GateConfiguration(), jobs: 2,
                    workers: .processes(executable: URL(fileURLWithPath: "/bin/sh"), arguments: ["-c", script, "worker"]),
                    timeout: 1)
    let start = Date()
    let records = gate.run([hung, quick])
    let elapsed = Date().timeIntervalSince(start)
    #expect(elapsed < 20, "the hung worker was stopped, not waited for (\(elapsed) s)")
    #expect(records.map(\.path) == ["hang/model.onnx", "quick/model.onnx"])
    #expect(records[0].outcome == .error)
    #expect(records[0].error?.code == "timeout")
    #expect(records[0].error?.message.contains("within 1 s") == true)
    #expect(records[0].seconds >= 1 && records[0].seconds < 20)
    #expect(records[1].outcome == .equivalent && records[1].worstRelativeError == 1e-7)
    #expect(GateExitCode.of(records) == 2)

    let junit = JUnitReport.document(records, settings: GateSettings(GateConfiguration()))
    #expect(junit.contains("type=\"timeout\""))
    #expect(junit.contains("[timeout] the worker checking"))
}

/// Without a timeout the same worker's answer is read as before; a timeout longer than the work
/// changes nothing.
@Test func aWorkerWithinItsTimeoutIsUnaffected() throws {
    let root = try temporaryDirectory("gate-timeout")
    defer { try? FileManager.default.removeItem(at: root) }
    let entry = ModelEntry(root: root.path, relativePath: "a/model.onnx", path: root.path + "/a/model.onnx")
    let recordFile = root.appendingPathComponent("record.json")
    try JSONEncoder().encode(GateRecord(entry: entry, outcome: .notEquivalent)).write(to: recordFile)
    for timeout in [nil, 30.0] as [Double?] {
        let gate = Gate(configuration: GateConfiguration(), jobs: 1,
                        workers: .processes(executable: URL(fileURLWithPath: "/bin/sh"), arguments: ["-c", "sleep 0.2; cat '\(recordFile.path)'", "w"]),
                        timeout: timeout)
        let records = gate.run([entry])
        #expect(records.map(\.outcome) == [.notEquivalent], "timeout \(String(describing: timeout))")
    }
}
