import Foundation
import GhostIR
import TestSupport
@testable import GhostGWT
import Testing

// The .gwt writer appends through `QueuedFileWriter`: copies into recycled 1 MiB buffers that a
// queue writes, large stable pieces written in place. The file must hold exactly the pieces,
// in order, whatever their sizes.

@Test func piecesOfEverySizeLandInOrder() throws {
    let directory = try temporaryDirectory("gwt")
    defer { try? FileManager.default.removeItem(at: directory) }
    let path = directory.appendingPathComponent("pieces.bin").path
    let file = try PendingFile(destination: path)
    let output = QueuedFileWriter(file: file)
    var expected: [UInt8] = []
    // Pieces from 1 byte to 3 MiB: small ones share buffers, some straddle two, the largest
    // (stable) bypass them; zeros between.
    let sizes = [1, 7, 4096, 1 << 20, (1 << 20) - 3, 5, 3 << 20, 100, (1 << 20) + 1, 64]
    var large: [[UInt8]] = []
    for (index, size) in sizes.enumerated() {
        let piece = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ index) }
        expected += piece
        if size >= 1 << 20 {
            large.append(piece)  // kept alive until `finish`
            large[large.count - 1].withUnsafeBytes { output.append(stable: $0) }
        } else {
            piece.withUnsafeBytes { output.append($0) }
        }
        output.append(zeros: index * 13)
        expected += [UInt8](repeating: 0, count: index * 13)
        #expect(output.position == expected.count)
    }
    try output.finish()
    try file.commit()
    let written = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
    #expect(written.count == expected.count)
    #expect(written == expected)
}

@Test func aLargeGraphWritesTheSameFileTwiceAndReadsBack() throws {
    var initializers = InitializerTable()
    var nodes: [Node] = []
    var value = "x"
    for unit in 0..<6000 {
        initializers["w\(unit)"] = try Tensor(float32: (0..<36).map { Float($0 + unit) }, shape: [2, 2, 3, 3])
        nodes.append(Node(name: "conv\(unit)", opType: "Conv", inputs: [value, "w\(unit)"], outputs: ["c\(unit)"],
                          attributes: [Attribute(name: "kernel_shape", value: .ints([3, 3]))]))
        value = "c\(unit)"
    }
    initializers["big"] = try Tensor(float32: (0..<(1 << 19)).map { Float($0 % 251) }, shape: [1 << 19])
    nodes.append(Node(name: "add", opType: "Add", inputs: [value, "big"], outputs: ["y"]))
    let graph = Graph(inputs: [Value(name: "x", elementType: .float32)], outputs: [Value(name: "y")],
                      initializers: initializers, nodes: nodes)
    let directory = try temporaryDirectory("gwt")
    defer { try? FileManager.default.removeItem(at: directory) }
    let first = directory.appendingPathComponent("a.gwt").path, second = directory.appendingPathComponent("b.gwt").path
    try GWTWriter.write(graph, metadata: GWTFixtures.metadata, to: first)
    try GWTWriter.write(graph, metadata: GWTFixtures.metadata, to: second)
    let bytes = try Data(contentsOf: URL(fileURLWithPath: first))
    #expect(bytes.count > 3 << 20)
    #expect(bytes == (try Data(contentsOf: URL(fileURLWithPath: second))))
    let model = try GWTReader.read(path: first)
    #expect(model.graph == graph)
}
