import Foundation
import TestSupport
@testable import GhostGWT
import GhostIR
import Testing

@Test func writtenGraphReadsBackIdentical() throws {
    let directory = try temporaryDirectory("gwt")
    defer { try? FileManager.default.removeItem(at: directory) }
    let path = directory.appendingPathComponent("model.gwt").path
    let graph = try GWTFixtures.graph()
    try GWTWriter.write(graph, metadata: GWTFixtures.metadata, to: path)
    let model = try GWTReader.read(path: path)
    // NaN attributes compare unequal as floats: compare that one separately.
    var expected = graph, actual = model.graph
    #expect(actual.nodes[0].attribute("alpha")?.floatValue?.isNaN == true)
    expected.nodes[0].setAttribute("alpha", nil)
    actual.nodes[0].setAttribute("alpha", nil)
    #expect(actual == expected)
    #expect(model.metadata == GWTFixtures.metadata)
    #expect(model.graph.nodes[0].fusedFrom == ["cheap.conv", "cheap.bn", "fusion_bn", "Add_3"])
}

@Test func tensorDataIsAlignedAndMapped() throws {
    let directory = try temporaryDirectory("gwt")
    defer { try? FileManager.default.removeItem(at: directory) }
    let path = directory.appendingPathComponent("model.gwt").path
    try GWTWriter.write(try GWTFixtures.graph(), metadata: GWTFixtures.metadata, to: path)
    let model = try GWTReader.read(path: path)
    for entry in model.graph.initializers where entry.tensor.byteCount > 0 {
        #expect(entry.tensor.storage.isView)
        #expect(Int(bitPattern: entry.tensor.storage.bytes.baseAddress) % 64 == 0, "\(entry.name) is not 64-byte aligned")
    }
}

@Test func writerIsDeterministic() throws {
    let directory = try temporaryDirectory("gwt")
    defer { try? FileManager.default.removeItem(at: directory) }
    let first = directory.appendingPathComponent("a.gwt").path, second = directory.appendingPathComponent("b.gwt").path
    try GWTWriter.write(try GWTFixtures.graph(), metadata: GWTFixtures.metadata, to: first)
    try GWTWriter.write(try GWTFixtures.graph(), metadata: GWTFixtures.metadata, to: second)
    let a = try Data(contentsOf: URL(fileURLWithPath: first)), b = try Data(contentsOf: URL(fileURLWithPath: second))
    #expect(a == b)
    // The file ends where its last (data) section does, and the fixture's file has this size:
    // header 64 + table 96, metadata at 192 (210 bytes), graph at 448 (2,185), data at 2,688 (708).
    let file = try GWTFileSurgery(path: first)
    let data = file.section(2)
    #expect(data.offset == 2688 && data.length == 708)
    #expect(a.count == data.offset + data.length)
    #expect(a.count == 3396)
}

@Test func layoutFollowsTheSpec() throws {
    let directory = try temporaryDirectory("gwt")
    defer { try? FileManager.default.removeItem(at: directory) }
    let path = directory.appendingPathComponent("model.gwt").path
    try GWTWriter.write(try GWTFixtures.graph(), metadata: GWTFixtures.metadata, to: path)
    let file = try GWTFileSurgery(path: path)
    #expect(Array(file.bytes[0..<8]) == [0x89, 0x47, 0x57, 0x54, 0x0D, 0x0A, 0x1A, 0x0A])
    #expect(file.u32(8) == 1)  // major 1, minor 0
    #expect(file.u32(12) == 3)
    #expect(file.u64(16) == 64)
    #expect(file.u64(24) == UInt64(file.bytes.count))
    #expect(file.bytes[40..<64].allSatisfy { $0 == 0 })
    for index in 0..<3 {
        #expect(file.u32(64 + 32 * index) == UInt32(index + 1))
        #expect(file.section(index).offset % 64 == 0)
    }
    let metadata = file.section(0)
    let json = String(decoding: file.bytes[metadata.offset..<metadata.offset + metadata.length], as: UTF8.self)
    #expect(json.contains("\"source_sha256\":\"abab"))
    #expect(json.contains("\"passes\":[{\"name\":\"merge-parallel-convs\",\"rewrites\":3}]"))
}

@Test func sha256MatchesAKnownVector() throws {
    let text = Array("abc".utf8)
    let digest = text.withUnsafeBytes { FileDigest.sha256($0) }
    #expect(digest == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
}

@Test func failedWriteLeavesNothing() throws {
    let directory = try temporaryDirectory("gwt")
    defer { try? FileManager.default.removeItem(at: directory) }
    let path = directory.appendingPathComponent("missing/model.gwt").path
    #expect(throws: GWTFormatError.self) { try GWTWriter.write(try GWTFixtures.graph(), metadata: GWTFixtures.metadata, to: path) }
    #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty)
}
