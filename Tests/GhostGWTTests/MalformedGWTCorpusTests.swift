import Foundation
import GhostGWT
import Testing

/// Tests/Fixtures/malformed-gwt (scripts/corpus/make_malformed_gwt_npy.py): every case must give
/// its typed error naming the file, never a crash.
struct MalformedFile: Decodable, Sendable, CustomTestStringConvertible {
    let file: String
    let code: String
    let description: String
    var testDescription: String { file }

    static func all(_ directory: String) -> [MalformedFile] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/\(directory)/manifest.json")
        guard let data = try? Data(contentsOf: url) else { return [] }
        return (try? JSONDecoder().decode([MalformedFile].self, from: data)) ?? []
    }

    static func path(_ directory: String, _ file: String) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/\(directory)/\(file)").path
    }
}

@Test func gwtCorpusIsLarge() { #expect(MalformedFile.all("malformed-gwt").count >= 80) }

@Test(arguments: MalformedFile.all("malformed-gwt"))
func malformedGWTIsRefused(_ testCase: MalformedFile) {
    do {
        _ = try GWTReader.read(path: MalformedFile.path("malformed-gwt", testCase.file))
        Issue.record("\(testCase.file) was accepted: \(testCase.description)")
    } catch {
        #expect(error.code == testCase.code, "\(testCase.file) (\(testCase.description)): \(error.localizedDescription)")
        #expect(error.localizedDescription.contains(testCase.file))
    }
}
