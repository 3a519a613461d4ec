import Foundation
@testable import GhostGWT
import GhostIR
import Testing

/// The streaming section writer must give, byte for byte, the text of the records it replaced
/// (`GraphDocumentEncoder` + `GraphDocument.json()`, themselves checked against Foundation's
/// encoder), whatever the piece size.
@Test func streamedGraphSectionIsTheRecordsText() throws {
    let graph = try GWTFixtures.graph()
    var encoder = GraphDocumentEncoder()
    let expected = encoder.encode(graph).json()
    var streamed: [UInt8] = []
    var pieces = 0
    GraphSectionWriter(graph: graph, layout: DataSectionLayout(graph)).write { piece in
        streamed.append(contentsOf: piece)
        pieces += 1
    }
    #expect(streamed == expected)
    #expect(pieces == 1)
    let layout = DataSectionLayout(graph)
    #expect(layout.length == encoder.dataSectionLength)
    #expect(layout.initializerCount == 6)
    // Initializers then the Constant's tensor then the If's two: 7 + 2 tensors at 64-byte steps.
    #expect(layout.tensors.count == 9)
    #expect(layout.offsets == [0, 320, 384, 448, 512, 512, 576, 640, 704])
}

/// A graph larger than one piece is drained in pieces that end between elements; joined, they
/// are the whole text.
@Test func largeGraphSectionIsDrainedInPiecesBetweenElements() throws {
    var nodes: [Node] = []
    var initializers = InitializerTable()
    var previous = "x"
    for index in 0..<12_000 {
        let weight = "w\(index)"
        initializers[weight] = try Tensor(float32: [Float(index)], shape: [1])
        nodes.append(Node(name: "mul\(index)", opType: "Mul", inputs: [previous, weight], outputs: ["y\(index)"],
                          attributes: index % 1000 == 0 ? [Attribute(name: "value", value: .tensor(try Tensor(int64: [Int64(index)], shape: [1])))] : []))
        previous = "y\(index)"
    }
    let graph = Graph(name: "long", inputs: [Value(name: "x", elementType: .float32, shape: [.fixed(1)])],
                      outputs: [Value(name: previous)], initializers: initializers, nodes: nodes)
    var encoder = GraphDocumentEncoder()
    let expected = encoder.encode(graph).json()
    var pieces: [[UInt8]] = []
    GraphSectionWriter(graph: graph, layout: DataSectionLayout(graph)).write { pieces.append(Array($0)) }
    #expect(pieces.count > 1)
    #expect(pieces.dropLast().allSatisfy { $0.count >= GraphSectionWriter.pieceSize })
    #expect(pieces.joined().elementsEqual(expected))
    // Each piece but the last ends after a complete element: the next starts with a comma.
    #expect(pieces.dropFirst().allSatisfy { $0.first == UInt8(ascii: ",") || $0.first == UInt8(ascii: "]") })
}

@Test func drainingAnEmptyWriterHandsNothing() {
    var json = JSONWriter()
    var calls = 0
    json.drain { _ in calls += 1 }
    #expect(calls == 0)
    json.array { $0.integer(1) }
    json.drain { #expect(Array($0) == Array("[1]".utf8)) }
    #expect(json.bytes.isEmpty)
}
