import Foundation
import GhostGate
import Testing
import TestSupport

@Test func fnv1aMatchesPublishedVectors() {
    #expect(Shard.fnv1a64("") == 0xcbf2_9ce4_8422_2325)
    #expect(Shard.fnv1a64("a") == 0xaf63_dc4c_8601_ec8c)
    #expect(Shard.fnv1a64("foobar") == 0x8594_4171_f739_67e8)
}

@Test func shardParsing() throws {
    #expect(try Shard(parsing: "2/3") == Shard(index: 2, count: 3))
    #expect(try Shard(parsing: "1/1") == Shard.all)
    for bad in ["0/3", "4/3", "a/b", "1/0", "3", "1/3/4", "/3", "2/", "-1/3", " 1/3", "1.0/3", ""] {
        #expect(throws: GateUsageError.self, "\(bad)") { try Shard(parsing: bad) }
    }
}

@Test func shardsPartitionAnySet() throws {
    let paths = (0..<200).map { "family_\($0 % 7)/model_\($0).onnx" }
    for count in 1...5 {
        let shards = try (1...count).map { try Shard(index: $0, count: count) }
        for path in paths {
            #expect(shards.filter { $0.contains(relativePath: path) }.count == 1)
        }
        // 200 paths over ≤ 5 shards: each gets a reasonable part (the hash mixes, it does not balance).
        for shard in shards {
            #expect(paths.filter { shard.contains(relativePath: $0) }.count > 200 / count / 2)
        }
    }
}

@Test func discoveryIsRecursiveSortedAndExcludes() throws {
    let root = try temporaryDirectory("gate")
    defer { try? FileManager.default.removeItem(at: root) }
    let graph = try Fixtures.convBatchNorm()
    for path in ["b/model.onnx", "a/z.onnx", "a/deep/er/m.ONNX", "a-b.onnx", "skip_me/model.onnx", "a/notes.txt", "a/model.onnx.data"] {
        if path.hasSuffix("onnx") || path.hasSuffix("ONNX") {
            try Fixtures.write(graph, to: root.appendingPathComponent(path))
        } else {
            try Data("x".utf8).write(to: root.appendingPathComponent(path))
        }
    }
    // A second name for a directory already walked: its files are found once.
    try FileManager.default.createSymbolicLink(atPath: root.appendingPathComponent("zz_alias").path, withDestinationPath: "b")
    let entries = try ModelDiscovery.discover([root.path], excluding: ["skip_*"])
    #expect(entries.map(\.relativePath) == ["a-b.onnx", "a/deep/er/m.ONNX", "a/z.onnx", "b/model.onnx"])
    #expect(entries.allSatisfy { $0.problem == nil && $0.root == root.path })
    #expect(entries[0].path == root.appendingPathComponent("a-b.onnx").path)

    // A file argument is named as its directory walk would name it.
    let single = try ModelDiscovery.discover([root.appendingPathComponent("b/model.onnx").path, root.appendingPathComponent("a/z.onnx").path])
    #expect(single.map(\.relativePath) == ["b/model.onnx", "a/z.onnx"])
    #expect(single.map(\.root) == [root.path, root.path])
    #expect(ModelDiscovery.fileRoot("m.onnx") == (".", "m.onnx"))
    #expect(ModelDiscovery.fileRoot("x/m.onnx") == (".", "x/m.onnx"))
    #expect(ModelDiscovery.fileRoot("../m.onnx") == ("..", "m.onnx"))
    #expect(ModelDiscovery.fileRoot("/m.onnx") == ("/", "m.onnx"))
    #expect(throws: GateUsageError.missingPath(root.appendingPathComponent("absent").path)) {
        try ModelDiscovery.discover([root.appendingPathComponent("absent").path])
    }
}

@Test func symlinkLoopsAreRecordsNotHangs() throws {
    let root = try temporaryDirectory("gate")
    defer { try? FileManager.default.removeItem(at: root) }
    try Fixtures.write(try Fixtures.convBatchNorm(), to: root.appendingPathComponent("sub/model.onnx"))
    let manager = FileManager.default
    try manager.createSymbolicLink(atPath: root.appendingPathComponent("sub/back").path, withDestinationPath: "..")
    try manager.createSymbolicLink(atPath: root.appendingPathComponent("self.onnx").path, withDestinationPath: "self.onnx")
    try manager.createSymbolicLink(atPath: root.appendingPathComponent("dangling.onnx").path, withDestinationPath: "nowhere.onnx")
    try manager.createSymbolicLink(atPath: root.appendingPathComponent("dangling.txt").path, withDestinationPath: "nowhere.txt")
    let entries = try ModelDiscovery.discover([root.path])
    let byPath = Dictionary(uniqueKeysWithValues: entries.map { ($0.relativePath, $0.problem?.code ?? "ok") })
    #expect(byPath == ["dangling.onnx": "file-unreadable", "self.onnx": "symlink-loop", "sub/back": "symlink-loop", "sub/model.onnx": "ok"])
}
