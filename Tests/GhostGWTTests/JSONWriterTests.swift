import Foundation
@testable import GhostGWT
import GhostIR
import Testing

/// The section JSON comes from a hand-written emitter; Foundation's encoder of the same Codable
/// records is the oracle: both texts must parse to the same JSON value.
@Test func graphJSONMatchesFoundationEncoding() throws {
    var encoder = GraphDocumentEncoder()
    let document = encoder.encode(try GWTFixtures.graph())
    let ours = try JSONSerialization.jsonObject(with: Data(document.json())) as? NSDictionary
    let foundation = try JSONSerialization.jsonObject(with: try JSONEncoder.gwt.encode(document)) as? NSDictionary
    #expect(ours != nil)
    #expect(ours == foundation)
    // The fixture exercises NaN, symbolic and unknown dimensions, attribute tensors and base64.
    let text = String(decoding: document.json(), as: UTF8.self)
    #expect(text.contains("\"nan\""))
    #expect(text.contains("null"))
}

@Test func metadataJSONMatchesFoundationEncoding() throws {
    let metadata = GWTMetadata(tool: "ghost-convert test", sourceSha256: String(repeating: "ab", count: 32),
                               sourceFile: "dir/model \"1\".onnx",
                               passes: [.init(name: "fold-batchnorm-into-conv", rewrites: 3), .init(name: "x", rewrites: 0)])
    let ours = try JSONSerialization.jsonObject(with: Data(metadata.json())) as? NSDictionary
    let foundation = try JSONSerialization.jsonObject(with: try JSONEncoder.gwt.encode(metadata)) as? NSDictionary
    #expect(ours != nil)
    #expect(ours == foundation)
    #expect(try JSONDecoder.gwt.decode(GWTMetadata.self, from: Data(metadata.json())) == metadata)
}

@Test func stringsAreEscapedAndFloatsRoundTrip() throws {
    var json = JSONWriter()
    let text = "quote \" backslash \\ newline \n tab \t bell \u{7} slash / ünïcode"
    let floats: [Float] = [0, 1, -2.5, 1e-5, 3.4028235e38, 1.1754944e-38, 0.1, .infinity, -.infinity]
    json.object { json in
        json.key("text")
        json.string(text)
        json.key("floats")
        json.array(floats) { $0.float($1) }
        json.key("nested")
        json.array { json in
            json.object { _ in }
            json.array { _ in }
            json.integer(Int64.min)
        }
    }
    let output = String(decoding: json.bytes, as: UTF8.self)
    #expect(output.contains("\\u0007"))
    #expect(output.contains("\"nested\":[{},[],-9223372036854775808]"))
    let parsed = try #require(try JSONSerialization.jsonObject(with: Data(json.bytes)) as? [String: Any])
    #expect(parsed["text"] as? String == text)
    let numbers = try #require(parsed["floats"] as? [Any])
    for (value, expected) in zip(numbers, floats) {
        if expected.isInfinite {
            #expect(value as? String == (expected < 0 ? "-inf" : "inf"))
        } else {
            #expect(Float((value as? NSNumber)?.doubleValue ?? .nan) == expected)
        }
    }
}
