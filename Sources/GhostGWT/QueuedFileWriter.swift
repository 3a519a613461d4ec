import Foundation
import GhostIR

/// Appends to a pending file from a serial queue, so the thread that produces the bytes (the
/// graph section's JSON) never waits in `write`: at 200k nodes copying ~60 MB into the page
/// cache was a third of the .gwt writer's time on the main thread.
///
/// Bytes are either copied into one of a few recycled 1 MiB buffers (the producer waits only
/// when all of them are queued), or, for large tensors, handed over as views — those must stay
/// alive until `finish()`, which waits for every write. The first failing write is kept; later
/// pieces are skipped, and `finish()` throws it.
final class QueuedFileWriter: @unchecked Sendable {
    // @unchecked: `file` is only written to from `queue`; `failure` and `spare` are under `lock`.
    private let file: PendingFile
    private let queue = DispatchQueue(label: "ghost-convert.gwt-writer")
    private let freeBuffers: DispatchSemaphore
    private let lock = NSLock()
    private var spare: [UnsafeMutableRawBufferPointer] = []
    private var allBuffers: [UnsafeMutableRawBufferPointer] = []
    private var failure: FileOutputError?
    static let bufferSize = 1 << 20
    private static let bufferCount = 4

    /// The buffer being filled and how much of it is.
    private var current: UnsafeMutableRawBufferPointer
    private var filled = 0
    /// Bytes appended so far: the file position the next byte goes to.
    private(set) var position = 0

    init(file: PendingFile) {
        self.file = file
        freeBuffers = DispatchSemaphore(value: Self.bufferCount - 1)
        for _ in 0..<Self.bufferCount {
            allBuffers.append(UnsafeMutableRawBufferPointer.allocate(byteCount: Self.bufferSize, alignment: 64))
        }
        current = allBuffers[0]
        spare = Array(allBuffers.dropFirst())
    }

    deinit {
        queue.sync {}
        for buffer in allBuffers { buffer.deallocate() }
    }

    /// Copies `bytes` into the file's stream.
    func append(_ bytes: UnsafeRawBufferPointer) {
        position += bytes.count
        guard var source = bytes.baseAddress else { return }
        var remaining = bytes.count
        while remaining > 0 {
            if filled == Self.bufferSize { handOver() }
            let piece = min(remaining, Self.bufferSize - filled)
            (current.baseAddress! + filled).copyMemory(from: source, byteCount: piece)
            filled += piece
            source += piece
            remaining -= piece
        }
    }

    /// Appends bytes that stay alive, unchanged, until `finish()` returns: written from where
    /// they are, without a copy.
    func append(stable bytes: UnsafeRawBufferPointer) {
        guard bytes.count >= Self.bufferSize else { return append(bytes) }
        handOver()
        position += bytes.count
        let view = UncheckedBytes(bytes: bytes)
        queue.async { self.write(view.bytes) }
    }

    func append(zeros count: Int) {
        position += count
        var remaining = count
        while remaining > 0 {
            if filled == Self.bufferSize { handOver() }
            let piece = min(remaining, Self.bufferSize - filled)
            (current.baseAddress! + filled).initializeMemory(as: UInt8.self, repeating: 0, count: piece)
            filled += piece
            remaining -= piece
        }
    }

    /// Queues the current buffer's bytes (if any) and continues in a free buffer.
    private func handOver() {
        guard filled > 0 else { return }
        let full = UncheckedBytes(bytes: UnsafeRawBufferPointer(rebasing: current[0..<filled]))
        let buffer = UncheckedBuffer(buffer: current)
        queue.async {
            self.write(full.bytes)
            self.lock.withLock { self.spare.append(buffer.buffer) }
            self.freeBuffers.signal()
        }
        freeBuffers.wait()
        current = lock.withLock { spare.removeLast() }
        filled = 0
    }

    private func write(_ bytes: UnsafeRawBufferPointer) {
        guard lock.withLock({ failure == nil }) else { return }
        do {
            try file.write(bytes)
        } catch {
            lock.withLock { if failure == nil { failure = error } }
        }
    }

    /// Writes what is buffered, waits for every queued write, and throws the first failure.
    func finish() throws(FileOutputError) {
        handOver()
        queue.sync {}
        if let failure = lock.withLock({ failure }) { throw failure }
    }
}

/// Bytes handed to the writer's queue (they outlive the call by the contract above).
private struct UncheckedBytes: @unchecked Sendable {
    let bytes: UnsafeRawBufferPointer
}

private struct UncheckedBuffer: @unchecked Sendable {
    let buffer: UnsafeMutableRawBufferPointer
}
