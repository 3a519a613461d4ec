import Foundation

/// Announces the temporary files and file mappings the process holds, so that a process-level
/// guard (the command-line tool's signal handlers) can remove the files when a signal ends the
/// process and report a fault on a file that shrank while mapped. GhostIR only announces;
/// without an observer nothing happens.
public protocol FileActivityObserver: Sendable {
    /// A temporary file is about to be created at `path` (announced first, so no signal can find
    /// it unannounced); the result is passed back to `temporaryFileGone`.
    func temporaryFileCreated(_ path: String) -> Int
    func temporaryFileGone(_ token: Int)
    /// `path` is mapped read-only at `base ..< base + count`.
    func fileMapped(base: UnsafeRawPointer, count: Int, path: String) -> Int
    func fileUnmapped(_ token: Int)
}

public enum FileActivity {
    private final class Slot: @unchecked Sendable {
        // Set once at start-up, read afterwards; the lock makes the hand-over safe.
        let lock = NSLock()
        var observer: (any FileActivityObserver)?
    }

    private static let slot = Slot()

    /// The observer told of every temporary file and mapping from now on.
    public static var observer: (any FileActivityObserver)? {
        get { slot.lock.withLock { slot.observer } }
        set { slot.lock.withLock { slot.observer = newValue } }
    }
}
