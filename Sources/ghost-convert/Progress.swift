import Foundation

/// A progress line on stderr for steps that take over a second: silent when stderr is not a
/// terminal (CI logs stay clean), with --quiet, and for quick runs.
final class Progress {
    private let label: String
    private let start = Date()
    private let interactive: Bool
    private var shown = false

    init(label: String, quiet: Bool = false) {
        self.label = label
        interactive = !quiet && isatty(STDERR_FILENO) != 0
    }

    func update(_ message: String) {
        guard interactive else { return }
        let elapsed = Date().timeIntervalSince(start)
        guard elapsed > 1 || shown else { return }
        shown = true
        FileHandle.standardError.write(Data("\r\u{1B}[K\(label): \(message) (\(String(format: "%.1f", elapsed)) s)".utf8))
    }

    func finish() {
        if shown { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }
}

/// `--timings`: wall time of each step of a command, printed to stderr at the end, with an
/// indented line per part of a step that has parts (the passes: one per pass, then `(verify)`).
struct StepTimer {
    private let enabled: Bool
    private var last = ContinuousClock.now
    private var steps: [(String, Duration)] = []
    private var parts: [String: [(String, Duration)]] = [:]

    init(enabled: Bool) { self.enabled = enabled }

    /// Ends the step that started at the previous mark (or at creation) and names it.
    mutating func mark(_ step: String) {
        guard enabled else { return }
        let now = ContinuousClock.now
        steps.append((step, now - last))
        last = now
    }

    /// Records the parts of `step` (marked or to be marked), printed under it; parts that took
    /// no time (a pass whose operators are absent, a census lookup) are left out.
    mutating func detail(_ step: String, _ stepParts: [(String, Duration)]) {
        guard enabled else { return }
        parts[step] = stepParts.filter { $0.1 >= .microseconds(50) }
    }

    func report() {
        guard enabled else { return }
        let total = steps.reduce(Duration.zero) { $0 + $1.1 }
        var lines: [String] = []
        for (step, duration) in steps {
            lines.append("  \(step.padding(toLength: 12, withPad: " ", startingAt: 0)) \(Self.milliseconds(duration))")
            for (part, time) in parts[step] ?? [] {
                lines.append("      \(part.padding(toLength: 34, withPad: " ", startingAt: 0)) \(Self.milliseconds(time))")
            }
        }
        lines.append("  \("total".padding(toLength: 12, withPad: " ", startingAt: 0)) \(Self.milliseconds(total))")
        FileHandle.standardError.write(Data(("timings:\n" + lines.joined(separator: "\n") + "\n").utf8))
    }

    private static func milliseconds(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        return String(format: "%9.1f ms", Double(seconds) * 1000 + Double(attoseconds) / 1e15)
    }
}
