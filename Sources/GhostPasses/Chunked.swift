import Dispatch
import Foundation

/// Read-only work over a large range, split into contiguous chunks that run on every core and
/// are joined in order: the result is the one a single loop over the range gives.
///
/// For sweeps whose steps read an index and nothing else — the checks of a rule's sites, the
/// search for branch sums — on a 200k-node graph. Below `minimum` items, or on one core, the
/// body runs once, on the calling thread.
enum Chunked {
    /// The cores this process may run on.
    static let cores = ProcessInfo.processInfo.activeProcessorCount

    /// How many chunks `flatMap` splits `count` items into (1: one call, on the calling thread).
    static func chunkCount(_ count: Int, minimum: Int, threads: Int = cores) -> Int {
        count >= minimum ? min(max(threads, 1), 8, count) : 1
    }

    /// `body(0..<count)`, computed as `body` of consecutive sub-ranges, concatenated. `body` must
    /// not write anything another chunk reads (each call gets its own range).
    static func flatMap<T>(_ count: Int, minimum: Int, threads: Int = cores, _ body: (Range<Int>) -> [T]) -> [T] {
        let chunks = chunkCount(count, minimum: minimum, threads: threads)
        guard chunks > 1 else { return body(0..<count) }
        let size = (count + chunks - 1) / chunks
        var parts = [[T]](repeating: [], count: chunks)
        parts.withUnsafeMutableBufferPointer { parts in
            withoutActuallyEscaping(body) { body in
                let job = ChunkJob(body: body, parts: parts.baseAddress!, size: size, count: count)
                DispatchQueue.concurrentPerform(iterations: chunks) { job.run(chunk: $0) }
            }
        }
        var joined: [T] = []
        joined.reserveCapacity(parts.reduce(0) { $0 + $1.count })
        for part in parts { joined.append(contentsOf: part) }
        return joined
    }
}

/// One `Chunked.flatMap` as its threads see it. Unchecked Sendable: each thread calls `body` on
/// its own range (the body reads shared state only) and writes only its own part.
private struct ChunkJob<T>: @unchecked Sendable {
    let body: (Range<Int>) -> [T]
    let parts: UnsafeMutablePointer<[T]>
    let size: Int
    let count: Int

    func run(chunk: Int) {
        let range = min(count, chunk * size)..<min(count, (chunk + 1) * size)
        parts[chunk] = body(range)
    }
}
