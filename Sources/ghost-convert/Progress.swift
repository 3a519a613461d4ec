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
