import Foundation
import GhostIR
import GhostONNX
import Testing
import TestSupport

/// Locations that name no file get `external-data-not-a-file` and a sentence saying what they
/// name instead; before, "." was reported as escaping the directory "through a symlink".
@Test(arguments: [
    ("ext_location_dot.onnx", ".", "the model's own directory"),
    ("ext_location_dot_slash_dot.onnx", "./.", "the model's own directory"),
    ("ext_location_dotdot.onnx", "..", "names a directory ('..')"),
    ("ext_location_trailing_slash.onnx", "data/", "ends in '/'"),
    ("ext_location_is_directory.onnx", "data", "is a directory, not a file"),
    ("ext_empty_location.onnx", "", "is empty"),
])
func locationsThatNameNoFile(file: String, location: String, says: String) {
    let path = repositoryRoot.appendingPathComponent("Tests/Fixtures/malformed-onnx/\(file)").path
    do {
        _ = try ONNXModelLoader.load(path: path)
        Issue.record("\(file) loaded")
    } catch {
        #expect(error == .externalDataNotAFile(file: path, tensor: "conv.bias", location: location, what: error.what))
        let message = error.localizedDescription
        #expect(error.code == "external-data-not-a-file")
        #expect(message.contains(says) && message.contains("'\(location)'") && message.contains("conv.bias"), "\(message)")
        #expect(!message.contains("symlink"), "\(message)")
    }
}

/// A path that leaves the directory through a symlink keeps its own message and code.
@Test func symlinkEscapeIsStillAnEscape() {
    let path = repositoryRoot.appendingPathComponent("Tests/Fixtures/malformed-onnx/ext_symlink_escape.onnx").path
    do {
        _ = try ONNXModelLoader.load(path: path)
        Issue.record("ext_symlink_escape.onnx loaded")
    } catch {
        #expect(error.code == "external-data")
        #expect(error.localizedDescription.contains("through a symlink"), "\(error.localizedDescription)")
    }
}

private extension ONNXLoadError {
    var what: String {
        if case .externalDataNotAFile(_, _, _, let what) = self { return what }
        return ""
    }
}
