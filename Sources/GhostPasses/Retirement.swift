import Dispatch
import GhostIR

/// Releases what a pass replaced — nodes and weights — on another core, while the passes go on.
///
/// At 200k nodes a rewriting pass drops a few hundred thousand nodes and weights; releasing them
/// touches each object once more (its reference counts, its fields), in memory long out of the
/// caches, and that was a tenth of a pipeline run. The editor moves them into a batch instead (no
/// reference count changes), and the batch is released on a serial queue. Values only: nothing
/// here is read again, so releasing them elsewhere changes no result.
final class Retirement: @unchecked Sendable {
    // @unchecked: `pending` is touched only by the thread running the pipeline; a batch, once
    // handed to the queue, only by the queue.
    private let queue = DispatchQueue(label: "ghost-convert.retire")
    private var pending = Batch()

    /// What one pass retired: moved in, released together.
    final class Batch: @unchecked Sendable {
        var nodes: [Node] = []
        var entries: [InitializerTable.Entry] = []
        var objects: [AnyObject] = []
    }

    func retire(_ node: consuming Node) { pending.nodes.append(node) }

    func retire(_ entries: consuming [InitializerTable.Entry]) {
        if pending.entries.isEmpty { pending.entries = entries } else { pending.entries.append(contentsOf: entries) }
    }

    func retire(_ object: AnyObject) { pending.objects.append(object) }

    /// What was retired since the last flush, taken out (nil when nothing was).
    func takePending() -> Batch? {
        guard !pending.nodes.isEmpty || !pending.entries.isEmpty || !pending.objects.isEmpty else { return nil }
        let batch = pending
        pending = Batch()
        return batch
    }

    /// Hands what was retired so far to the queue.
    func flush() {
        guard !pending.nodes.isEmpty || !pending.entries.isEmpty || !pending.objects.isEmpty else { return }
        let batch = pending
        pending = Batch()
        queue.async {
            batch.nodes = []
            batch.entries = []
            batch.objects = []
        }
    }
}
