import Foundation
import GhostIR

/// One model the gate will check, or a place where discovery itself failed (a symlink loop, an
/// unreadable directory): those become failed records rather than stopping the run.
public struct ModelEntry: Codable, Equatable, Sendable {
    /// The PATH argument it was found under, as given.
    public let root: String
    /// Path below `root` with `/` separators (for a file given directly, its directory's name and
    /// its own, see `ModelDiscovery.fileRoot`): what
    /// sharding hashes, what reports show, and the layout under `--output-dir`.
    public let relativePath: String
    /// The file to open: `root` joined with `relativePath`.
    public let path: String
    /// Set when the entry could not even be opened as a model.
    public let problem: GateError?

    public init(root: String, relativePath: String, path: String, problem: GateError? = nil) {
        self.root = root
        self.relativePath = relativePath
        self.path = path
        self.problem = problem
    }
}

/// Finds every `.onnx` file under the given files and directories, recursively, in a
/// deterministic order: roots in argument order, each root's entries sorted by relative path
/// (byte order). Symbolic links are followed; a link that leads back into a directory being
/// walked is a `symlink-loop` entry; one file reached twice (through links, or under two roots)
/// is kept once, where it was first found.
public enum ModelDiscovery {
    public static func discover(_ paths: [String], excluding patterns: [String] = []) throws(GateUsageError) -> [ModelEntry] {
        var walker = Walker(patterns: patterns)
        for root in paths {
            var status = stat()
            guard stat(root, &status) == 0 || lstat(root, &status) == 0 else { throw .missingPath(root) }
            let before = walker.entries.count
            if isDirectory(status) {
                walker.walk(root: root, directory: root, relative: "", ancestors: [FileID(status)])
            } else {
                let (base, relative) = fileRoot(root)
                if !walker.excluded(relative: relative, name: PathText.name(of: root)) {
                    walker.addFile(root: base, relative: relative, path: root, status: status)
                }
            }
            walker.entries[before...].sort { $0.relativePath.utf8.lexicographicallyPrecedes($1.relativePath.utf8) }
        }
        return walker.entries
    }

    /// A file given directly is named as if its grandparent directory had been given:
    /// `Models/ghostnet_100/model.onnx` is `ghostnet_100/model.onnx` under `Models`, exactly as
    /// `gate Models/` names it, so `gate Models/*/model.onnx` shards and lays out its output the
    /// same way. A parent that is `.`, `..`, `/` or absent leaves just the file name.
    public static func fileRoot(_ path: String) -> (root: String, relative: String) {
        // By hand: swift-corelibs-foundation's NSString path methods trap on some relative paths.
        let absolute = path.hasPrefix("/")
        var components = path.split(separator: "/").map(String.init)
        let name = components.popLast() ?? path
        func joined(_ parts: [String]) -> String {
            let text = parts.joined(separator: "/")
            return absolute ? "/" + text : (text.isEmpty ? "." : text)
        }
        guard let parentName = components.last, parentName != ".", parentName != ".." else {
            return (joined(components), name)
        }
        return (joined(components.dropLast()), parentName + "/" + name)
    }

    struct FileID: Hashable {
        let device: UInt64
        let inode: UInt64
        init(_ status: stat) {
            device = UInt64(status.st_dev)
            inode = UInt64(status.st_ino)
        }
    }

    static func isDirectory(_ status: stat) -> Bool { status.st_mode & S_IFMT == S_IFDIR }
    static func isRegular(_ status: stat) -> Bool { status.st_mode & S_IFMT == S_IFREG }
    static func isModelName(_ name: String) -> Bool { name.lowercased().hasSuffix(".onnx") }

    struct Walker {
        let patterns: [String]
        var entries: [ModelEntry] = []
        var seenFiles: Set<FileID> = []

        init(patterns: [String]) { self.patterns = patterns }

        /// `--exclude` patterns are fnmatch(3) globs without FNM_PATHNAME (`*` also crosses `/`),
        /// tried against the relative path and against the bare name; an excluded directory is
        /// not entered.
        func excluded(relative: String, name: String) -> Bool {
            patterns.contains { fnmatch($0, relative, 0) == 0 || fnmatch($0, name, 0) == 0 }
        }

        mutating func addFile(root: String, relative: String, path: String, status: stat) {
            guard seenFiles.insert(FileID(status)).inserted else { return }
            let problem: GateError? = isRegular(status) ? nil
                : GateError(code: "not-a-regular-file", message: "\(path): not a regular file")
            entries.append(ModelEntry(root: root, relativePath: relative, path: path, problem: problem))
        }

        mutating func fail(root: String, relative: String, path: String, code: String, message: String) {
            entries.append(ModelEntry(root: root, relativePath: relative, path: path, problem: GateError(code: code, message: message)))
        }

        mutating func walk(root: String, directory: String, relative: String, ancestors: Set<FileID>) {
            let names: [String]
            do {
                names = try FileManager.default.contentsOfDirectory(atPath: directory)
            } catch {
                let reason = (error as NSError).userInfo[NSUnderlyingErrorKey].map { "\($0)" } ?? error.localizedDescription
                fail(root: root, relative: relative.isEmpty ? "." : relative, path: directory,
                     code: "directory-unreadable", message: "\(directory): cannot list the directory: \(reason)")
                return
            }
            for name in names.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
                let childRelative = relative.isEmpty ? name : relative + "/" + name
                let child = PathText.join(directory, name)
                if excluded(relative: childRelative, name: name) { continue }
                var linkStatus = stat()
                guard lstat(child, &linkStatus) == 0 else { continue }  // removed while we looked
                var status = linkStatus
                if linkStatus.st_mode & S_IFMT == S_IFLNK, stat(child, &status) != 0 {
                    let reason = errno
                    if reason == ELOOP {
                        fail(root: root, relative: childRelative, path: child, code: "symlink-loop",
                             message: "\(child): the symbolic link resolves to itself (\(String(cString: strerror(reason))))")
                    } else if isModelName(name) {
                        fail(root: root, relative: childRelative, path: child, code: "file-unreadable",
                             message: "\(child): the symbolic link points nowhere (\(String(cString: strerror(reason))))")
                    }
                    continue
                }
                if isDirectory(status) {
                    let id = FileID(status)
                    if ancestors.contains(id) {
                        fail(root: root, relative: childRelative, path: child, code: "symlink-loop",
                             message: "\(child): the symbolic link leads back into a directory already being searched")
                    } else {
                        walk(root: root, directory: child, relative: childRelative, ancestors: ancestors.union([id]))
                    }
                } else if isModelName(name) {
                    addFile(root: root, relative: childRelative, path: child, status: status)
                }
            }
        }
    }
}
