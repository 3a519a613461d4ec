import Foundation
import GhostIR

/// Finds and maps the files that hold external tensor data (`data_location = EXTERNAL`).
///
/// Rules, from the ONNX external-data convention plus our own safety checks:
/// - `location` is a path relative to the model's directory; absolute paths, `..` components and
///   paths that leave the directory through a symlink are refused, and so is a location that
///   names no file ("", ".", "..", "dir/", a directory, FIFO or device: `external-data-not-a-file`);
/// - `offset` (default 0) and `length` (default: the tensor's byte size) are decimal integers;
///   `length`, when given, must equal the tensor's byte size;
/// - `offset + size` must lie within the file.
/// Each file is mapped once; tensors view the mapping, so external weights are never copied.
/// Initializers and node attributes are decoded on two threads: one lock guards the state.
final class ExternalDataResolver: @unchecked Sendable {
    private let file: String
    private let directory: String
    private let lock = NSLock()
    private var mapped: [String: MappedFile] = [:]
    private var referenced: [String: Int] = [:]

    /// Locations used, with the number of bytes referenced in each.
    var referencedBytes: [String: Int] { lock.withLock { referenced } }

    init(modelPath: String) {
        file = modelPath
        directory = PathText.directory(of: modelPath)
    }

    func bytes(for tensor: String, entries: [(key: String, value: String)], byteCount: Int) throws(ONNXLoadError) -> (UnsafeRawBufferPointer, AnyObject) {
        lock.lock()
        defer { lock.unlock() }
        func fail(_ problem: String) -> ONNXLoadError { .externalData(file: file, tensor: tensor, problem: problem) }
        var values: [String: String] = [:]
        for entry in entries { values[entry.key] = entry.value }
        guard let location = values["location"] else { throw fail("the 'location' key is missing") }
        func notAFile(_ what: String) -> ONNXLoadError {
            .externalDataNotAFile(file: file, tensor: tensor, location: location, what: what)
        }
        guard !location.isEmpty else { throw notAFile("is empty, so it names no file") }
        guard !location.hasPrefix("/") else {
            throw fail("location '\(location)' is absolute; it must be relative to the model's directory")
        }
        let components = location.split(separator: "/", omittingEmptySubsequences: true)
        // Checked before '..' escapes and symlinks, whose messages would mislead for these.
        if components.allSatisfy({ $0 == "." }) { throw notAFile("names the model's own directory, not a file") }
        if components.last == ".." { throw notAFile("names a directory ('..'), not a file") }
        if location.hasSuffix("/") { throw notAFile("ends in '/', so it names a directory, not a file") }
        guard !components.contains("..") else {
            throw fail("location '\(location)' uses '..'; it must stay inside the model's directory")
        }
        let offset = try integer(values["offset"], key: "offset", default: 0, tensor: tensor)
        let length = try integer(values["length"], key: "length", default: byteCount, tensor: tensor)
        guard length == byteCount else {
            throw fail("length \(length) does not match the \(byteCount) bytes its dims and type need")
        }
        let mapping = try map(location, tensor: tensor)
        let (end, overflow) = offset.addingReportingOverflow(byteCount)
        guard !overflow, end <= mapping.bytes.count else {
            throw fail("bytes \(offset)..<\(overflow ? "overflow" : String(end)) lie outside '\(location)', which has \(mapping.bytes.count) bytes")
        }
        referenced[location, default: 0] += byteCount
        let slice = byteCount == 0 ? UnsafeRawBufferPointer(start: nil, count: 0)
            : UnsafeRawBufferPointer(rebasing: mapping.bytes[offset..<end])
        return (slice, mapping)
    }

    private func integer(_ text: String?, key: String, default fallback: Int, tensor: String) throws(ONNXLoadError) -> Int {
        guard let text else { return fallback }
        guard let value = Int(text), value >= 0 else {
            throw .externalData(file: file, tensor: tensor, problem: "'\(key)' is '\(text)', not a non-negative integer")
        }
        return value
    }

    private func map(_ location: String, tensor: String) throws(ONNXLoadError) -> MappedFile {
        if let existing = mapped[location] { return existing }
        let directoryPath = directory.isEmpty ? "." : directory
        let candidate = PathText.join(directoryPath, location)
        guard let resolved = realPath(candidate) else {
            throw .externalData(file: file, tensor: tensor, problem: "file '\(location)' not found next to the model")
        }
        var status = stat()
        if stat(resolved, &status) == 0, status.st_mode & S_IFMT == S_IFDIR {
            throw .externalDataNotAFile(file: file, tensor: tensor, location: location, what: "is a directory, not a file")
        }
        guard let root = realPath(directoryPath), resolved.hasPrefix(root.hasSuffix("/") ? root : root + "/") else {
            throw .externalData(file: file, tensor: tensor, problem: "location '\(location)' resolves (through a symlink) to '\(resolved)', outside the model's directory")
        }
        let mapping: MappedFile
        do {
            mapping = try MappedFile(path: resolved)
        } catch .notARegularFile(_, let kind) {
            throw .externalDataNotAFile(file: file, tensor: tensor, location: location, what: "is \(kind), not a regular file")
        } catch {
            throw .externalData(file: file, tensor: tensor, problem: "cannot read '\(location)': \(error.reason)")
        }
        mapped[location] = mapping
        return mapping
    }

    private func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
