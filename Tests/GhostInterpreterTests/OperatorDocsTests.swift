import Foundation
@testable import GhostInterpreter
import Testing

/// docs/operators.md's operator section is the registry's `markdownTable`, word for word.
@Test func operatorDocsMatchTheRegistry() throws {
    let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("docs/operators.md").path
    let text = try String(contentsOfFile: path, encoding: .utf8)
    let begin = "<!-- BEGIN OPERATOR TABLE -->\n", end = "<!-- END OPERATOR TABLE -->"
    let start = try #require(text.range(of: begin)), stop = try #require(text.range(of: end))
    let documented = String(text[start.upperBound..<stop.lowerBound])
    let generated = OperatorRegistry.markdownTable
    if ProcessInfo.processInfo.environment["GHOST_UPDATE_DOCS"] == "1" {
        try (text[..<start.upperBound] + generated + text[stop.lowerBound...]).write(toFile: path, atomically: true, encoding: .utf8)
    } else {
        #expect(documented == generated, "docs/operators.md's operator table differs from the registry (GHOST_UPDATE_DOCS=1 rewrites it)")
    }
}

/// Every row's op type is unique and resolves, in either spelling of the default domain; other
/// domains never do.
@Test func registryResolvesEveryRow() {
    for opType in OperatorRegistry.supportedOpTypes {
        #expect(OperatorRegistry.definition(opType: opType, domain: "")?.opType == opType)
        #expect(OperatorRegistry.definition(opType: opType, domain: "ai.onnx")?.opType == opType)
        #expect(OperatorRegistry.definition(opType: opType, domain: "com.microsoft") == nil)
    }
    #expect(OperatorRegistry.definition(opType: "NoSuchOp", domain: "") == nil)
    let listed = OperatorRegistry.opTypesByFamily.flatMap(\.opTypes)
    #expect(listed.count == Set(listed).count)
    #expect(listed.sorted() == OperatorRegistry.supportedOpTypes)
}
