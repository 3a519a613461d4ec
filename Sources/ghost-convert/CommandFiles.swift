import Foundation
import GhostIR

/// The files one command reads and the files it will write, so that no output lands on an input
/// or on another output of the same command.
///
/// Two paths are the same file when they resolve to the same place: the same device and inode for
/// files that exist (hard links and symlinks included), else the same absolute path after
/// resolving the symlinks of the existing part. Every check happens before anything is written.
struct CommandFiles {
    private var reads: [(role: String, path: String, identity: FileIdentity)] = []
    private var writes: [(role: String, path: String, identity: FileIdentity)] = []

    /// Records a file the command reads (`role` names it for messages: "MODEL", "--input").
    mutating func reads(_ path: String, as role: String) {
        reads.append((role, path, FileIdentity(path)))
    }

    /// Records the model's own file and the external data files it referenced.
    mutating func reads(model path: String, externalData: [String: Int], as role: String) {
        reads(path, as: role)
        let directory = PathText.directory(of: path)
        for location in externalData.keys.sorted() {
            reads(PathText.join(directory, location), as: "\(role)'s external data")
        }
    }

    /// Records a file the command will write, refusing it when it is a file the command reads or
    /// another of its outputs.
    mutating func writes(_ path: String, as role: String) throws(FileConflictError) {
        let identity = FileIdentity(path)
        if let read = reads.first(where: { $0.identity.isSame(as: identity) }) {
            throw .outputIsInput(output: path, outputRole: role, input: read.path, inputRole: read.role)
        }
        if let other = writes.first(where: { $0.identity.isSame(as: identity) }) {
            throw .outputsCollide(path: path, role: role, otherPath: other.path, otherRole: other.role)
        }
        writes.append((role, path, identity))
    }

    /// Whether `path` is already one of the outputs (for choosing a distinct name).
    func isWritten(_ path: String) -> Bool {
        let identity = FileIdentity(path)
        return writes.contains { $0.identity.isSame(as: identity) }
    }
}

/// Where a path leads: its device and inode when the file exists, and its absolute path with the
/// symlinks of its existing part resolved.
struct FileIdentity {
    let resolvedPath: String
    let device: UInt64?
    let inode: UInt64?

    init(_ path: String) {
        var status = stat()
        if stat(path, &status) == 0 {
            device = UInt64(status.st_dev)
            inode = UInt64(status.st_ino)
        } else {
            device = nil
            inode = nil
        }
        resolvedPath = FileIdentity.resolve(path)
    }

    func isSame(as other: FileIdentity) -> Bool {
        if let device, let inode, let otherDevice = other.device, let otherInode = other.inode {
            return device == otherDevice && inode == otherInode
        }
        return resolvedPath == other.resolvedPath
    }

    /// realpath of the longest existing prefix, with the rest appended.
    private static func resolve(_ path: String) -> String {
        let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        var existing = absolute
        var rest: [String] = []
        while !existing.isEmpty && existing != "/" {
            if let resolved = realpath(existing, nil) {
                defer { free(resolved) }
                return ([String(cString: resolved)] + rest.reversed()).joined(separator: "/")
            }
            rest.append(PathText.name(of: existing))
            existing = PathText.directory(of: existing)
        }
        return ([""] + rest.reversed()).joined(separator: "/")
    }
}

/// An output that would overwrite something the command reads or writes.
enum FileConflictError: CodedError, Equatable {
    case outputIsInput(output: String, outputRole: String, input: String, inputRole: String)
    case outputsCollide(path: String, role: String, otherPath: String, otherRole: String)

    var code: String {
        switch self {
        case .outputIsInput: "output-is-input"
        case .outputsCollide: "outputs-collide"
        }
    }

    var errorDescription: String? {
        switch self {
        case .outputIsInput(let output, let outputRole, let input, let inputRole):
            let same = output == input ? "" : " ('\(input)')"
            return "\(outputRole) '\(output)' is the file this command reads as \(inputRole)\(same); writing it would destroy the input. Choose another path"
        case .outputsCollide(let path, let role, let otherPath, let otherRole):
            let same = path == otherPath ? "" : " ('\(otherPath)')"
            return "\(role) '\(path)' is the same file as \(otherRole)\(same); choose distinct paths"
        }
    }
}
