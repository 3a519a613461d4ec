/// Values a command has finished with whose release would only cost time: the process exits as
/// soon as the command returns, and the kernel takes back the memory at once. A fused 200k-node
/// graph is millions of small objects (nodes, name strings, tensor storages); releasing the input
/// graph, the pipeline's result and the report after the files were written took 0.5–0.9 s of the
/// main thread. Compilers skip the same work at exit for the same reason (clang's -disable-free).
/// Only for what a command holds until its end; nothing that owns a file or a lock goes here.
enum ExitWithoutRelease {
    nonisolated(unsafe) private static var kept: [Any] = []

    static func keep(_ values: Any...) {
        kept.append(contentsOf: values)
    }
}
