import Foundation
import GhostNumPy
import Testing

struct MalformedArray: Decodable, Sendable, CustomTestStringConvertible {
    let file: String
    let code: String
    let description: String
    var testDescription: String { file }

    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/malformed-npy")

    static func all() -> [MalformedArray] {
        guard let data = try? Data(contentsOf: directory.appendingPathComponent("manifest.json")) else { return [] }
        return (try? JSONDecoder().decode([MalformedArray].self, from: data)) ?? []
    }
}

@Test func npyCorpusIsLarge() { #expect(MalformedArray.all().count >= 30) }

@Test(arguments: MalformedArray.all())
func malformedNPYIsRefused(_ testCase: MalformedArray) {
    do {
        _ = try NumPyFile.read(path: MalformedArray.directory.appendingPathComponent(testCase.file).path)
        Issue.record("\(testCase.file) was accepted: \(testCase.description)")
    } catch {
        #expect(error.code == testCase.code, "\(testCase.file) (\(testCase.description)): \(error.localizedDescription)")
        #expect(error.localizedDescription.contains(testCase.file))
    }
}
