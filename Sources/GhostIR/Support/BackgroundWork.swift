import Dispatch

/// Work started on another core now and collected later: hashing the source while the passes
/// run, a checksum while the file is written.
public final class BackgroundWork<Value: Sendable>: @unchecked Sendable {
    // @unchecked: `result` is written once before `done` is signalled and read only after it.
    private let done = DispatchSemaphore(value: 0)
    private var result: Result<Value, any Error>?

    public init(_ work: @escaping @Sendable () throws -> Value) {
        DispatchQueue.global().async {
            self.result = Result { try work() }
            self.done.signal()
        }
    }

    /// Waits for the work (any number of times) and returns its result or throws its error.
    public func value() throws -> Value {
        done.wait()
        done.signal()
        return try result!.get()
    }
}
