import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import GhostGate
import Testing

private func sampleRecords() -> [GateRecord] {
    let awkward = "we<ird> & \"quoted\" 'name'\u{01}\ttab\nline.onnx"
    var passed = GateRecord(entry: ModelEntry(root: "zoo/", relativePath: "a/model.onnx", path: "zoo/a/model.onnx"), outcome: .equivalent, seconds: 1.25)
    passed.worstRelativeError = 1.2e-6
    passed.nodes = .init(before: 10, after: 4)
    var failed = GateRecord(entry: ModelEntry(root: "zoo/", relativePath: awkward, path: "zoo/" + awkward), outcome: .notEquivalent, seconds: 2)
    failed.worstRelativeError = 3e-4
    failed.outputs = [.init(output: "logits<0>", relativeError: 3e-4, maxAbsoluteError: 0.02, passed: false)]
    failed.firstDivergence = .init(node: "Conv_7&8", opType: "Conv", value: "v", fusedFrom: ["Conv_7", "BN_8"], relativeError: 3e-4, maxAbsoluteError: 0.02)
    let broken = GateRecord(entry: ModelEntry(root: "zoo/", relativePath: "b.onnx", path: "zoo/b.onnx"), outcome: .error,
                            error: GateError(code: "malformed-protobuf", message: "zoo/b.onnx: not a valid ONNX protobuf (at byte 3): <bad>"))
    let skipped = GateRecord(entry: ModelEntry(root: "zoo/", relativePath: "c.onnx", path: "zoo/c.onnx"), outcome: .skipped,
                             error: GateError(code: "fail-fast", message: "not checked"))
    return [passed, failed, broken, skipped]
}

@Test func junitParsesAndCarriesTheFigures() throws {
    let records = sampleRecords()
    let text = JUnitReport.document(records, settings: GateSettings(tolerance: 1e-5, arithmetic: .f64, samples: 4, shard: try Shard(index: 2, count: 3)))
    let document = try XMLDocument(xmlString: text, options: [])
    let root = try #require(document.rootElement())
    #expect(root.name == "testsuites")
    let suites = root.elements(forName: "testsuite")
    #expect(suites.count == 1)
    let suite = try #require(suites.first)
    for (attribute, value) in [("tests", "4"), ("failures", "1"), ("errors", "1"), ("skipped", "1"), ("time", "3.250")] {
        #expect(suite.attribute(forName: attribute)?.stringValue == value, "\(attribute)")
    }
    let properties = suite.elements(forName: "properties").first?.elements(forName: "property") ?? []
    #expect(properties.first { $0.attribute(forName: "name")?.stringValue == "shard" }?.attribute(forName: "value")?.stringValue == "2/3")
    let cases = suite.elements(forName: "testcase")
    #expect(cases.map { $0.attribute(forName: "name")?.stringValue } == records.map { $0.path.replacingOccurrences(of: "\u{01}", with: "\u{FFFD}") })
    #expect(cases.allSatisfy { $0.attribute(forName: "classname")?.stringValue == "zoo" })
    #expect(cases[0].childCount == 0)
    let failure = try #require(cases[1].elements(forName: "failure").first)
    #expect(failure.attribute(forName: "type")?.stringValue == "not-equivalent")
    let message = failure.attribute(forName: "message")?.stringValue ?? ""
    #expect(message.contains("3.00e-04") && message.contains("'Conv_7&8'"), "\(message)")
    #expect(failure.stringValue?.contains("fused from Conv_7, BN_8") == true)
    #expect(failure.stringValue?.contains("output 'logits<0>'") == true)
    let error = try #require(cases[2].elements(forName: "error").first)
    #expect(error.attribute(forName: "type")?.stringValue == "malformed-protobuf")
    #expect(error.attribute(forName: "message")?.stringValue?.contains("<bad>") == true)
    #expect(cases[3].elements(forName: "skipped").count == 1)
}

/// Every element and attribute is one the common JUnit schema (Jenkins xunit's junit-10.xsd, which
/// GitLab and the GitHub reporters accept) allows where it is used.
@Test func junitUsesOnlyTheCommonSchema() throws {
    let allowed: [String: Set<String>] = [
        "testsuites": ["name", "time", "tests", "failures", "errors"],
        "testsuite": ["name", "tests", "failures", "errors", "group", "time", "skipped", "timestamp", "hostname", "id", "package", "file", "log", "url"],
        "properties": [], "property": ["name", "value"],
        "testcase": ["name", "time", "classname", "group"],
        "failure": ["type", "message"], "error": ["type", "message"], "skipped": ["type", "message"], "system-out": [],
    ]
    let required: [String: Set<String>] = ["testsuite": ["name", "tests", "failures", "errors"], "property": ["name", "value"], "testcase": ["name"]]
    let parents: [String: Set<String>] = ["testsuite": ["testsuites"], "properties": ["testsuite"], "property": ["properties"], "testcase": ["testsuite"],
                                          "failure": ["testcase"], "error": ["testcase"], "skipped": ["testcase"], "system-out": ["testcase"]]
    var records = sampleRecords()
    records[0].intermediates = .init(compared: 3, skippedDownstreamOfSelection: 0, failed: 0, worstValue: "v", worstNode: "n", worstRelativeError: 1e-7)
    let text = JUnitReport.document(records, settings: GateSettings(tolerance: 1e-5, arithmetic: .f64, samples: 4, intermediates: true))
    let document = try XMLDocument(xmlString: text, options: [])
    var elements = [try #require(document.rootElement())]
    var visited = 0
    while let element = elements.popLast() {
        visited += 1
        let name = element.name ?? ""
        let attributes = Set((element.attributes ?? []).compactMap(\.name))
        #expect(allowed[name] != nil, "element <\(name)>")
        #expect(attributes.isSubset(of: allowed[name] ?? []), "<\(name)> has \(attributes.subtracting(allowed[name] ?? []))")
        #expect((required[name] ?? []).isSubset(of: attributes), "<\(name)> lacks \((required[name] ?? []).subtracting(attributes))")
        if let parent = (element.parent as? XMLElement)?.name { #expect(parents[name]?.contains(parent) == true, "<\(name)> in <\(parent)>") }
        if let time = element.attribute(forName: "time")?.stringValue { #expect(Double(time) != nil && !time.contains("e"), "time \(time)") }
        elements += (element.children ?? []).compactMap { $0 as? XMLElement }
    }
    // testsuites, testsuite, properties, 5 properties, 4 testcases, 3 verdicts, 1 system-out.
    #expect(visited == 1 + 1 + 1 + 5 + 4 + 3 + 1)
}

@Test func escapeKeepsXMLWellFormed() throws {
    #expect(JUnitReport.escape("a<b>&\"c'") == "a&lt;b&gt;&amp;&quot;c&apos;")
    #expect(JUnitReport.escape("x\u{0}y\u{1B}z") == "x\u{FFFD}y\u{FFFD}z")
    #expect(JUnitReport.escape("é→漢") == "é→漢")
    let document = try XMLDocument(xmlString: "<a b=\"\(JUnitReport.escape("1\n2\t\"<&>"))\">\(JUnitReport.escape("]]> <!-- &"))</a>", options: [])
    #expect(document.rootElement()?.attribute(forName: "b")?.stringValue == "1\n2\t\"<&>")
    #expect(document.rootElement()?.stringValue == "]]> <!-- &")
}

@Test func jsonRecordsRoundTripWithStableKeys() throws {
    let records = sampleRecords()
    let data = try JSONReport.data(records)
    let decoded = try JSONDecoder().decode([GateRecord].self, from: data)
    #expect(decoded == records)
    let objects = try #require(try JSONSerialization.jsonObject(with: data) as? [[String: Any]])
    #expect(Set(objects[1].keys) == ["root", "path", "file", "outcome", "outputs", "passes", "worstRelativeError", "firstDivergence", "written", "seconds"])
    #expect(objects[1]["outcome"] as? String == "not-equivalent")
    #expect((objects[2]["error"] as? [String: Any])?["code"] as? String == "malformed-protobuf")
}

@Test func markdownTableListsFailuresFirst() {
    let table = MarkdownSummary.table(sampleRecords(), settings: GateSettings(tolerance: 1e-5, arithmetic: .f64, samples: 4))
    let rows = table.split(separator: "\n").filter { $0.hasPrefix("| `") }
    #expect(rows.count == 4)
    #expect(rows[0].contains("b.onnx") && rows[0].contains("malformed-protobuf"))
    #expect(rows[1].contains("NOT equivalent") && rows[1].contains("`Conv_7&8`"))
    #expect(rows[3].contains("a/model.onnx") && rows[3].contains("10 → 4"))
    #expect(rows.allSatisfy { $0.filter { $0 == "|" }.count - $0.components(separatedBy: "\\|").count + 1 == 7 }, "a | in a name is escaped")
    #expect(table.hasPrefix("### ghost-convert gate: 1 equivalent, 1 NOT equivalent, 1 error, 1 skipped"))
}
