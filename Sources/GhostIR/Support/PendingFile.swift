import Foundation

/// An output file that appears at its destination only when complete.
///
/// Bytes go to a temporary file in the destination's directory (so the final rename cannot cross
/// file systems); `commit()` renames it into place. A pending file that is never committed is
/// deleted, so a failed conversion leaves nothing behind — not even a partial file.
///
/// The temporary file is `.NAME.tmp-PID-RANDOM` beside the destination. A process killed by
/// SIGKILL cannot remove its own; a later pending file for the same destination removes those
/// whose PID no longer runs, so such litter never piles up. Each temporary file is announced to
/// `FileActivity.observer` (the CLI removes them on SIGINT, SIGTERM and SIGHUP).
public final class PendingFile {
    public let destination: String
    public let temporaryPath: String
    private var descriptor: Int32
    private var committed = false
    private let activityToken: Int?

    public init(destination: String) throws(FileOutputError) {
        self.destination = destination
        let directory = PathText.directory(of: destination)
        let name = PathText.name(of: destination)
        let folder = directory.isEmpty ? "." : directory
        PendingFile.removeStaleTemporaries(in: folder, name: name)
        // The path is announced before the file exists, so a signal at any moment finds it
        // registered (removing a path not yet created is harmless); O_EXCL keeps names unique.
        var fd: Int32 = -1, path = "", token: Int?
        for _ in 0..<100 {
            let suffix = String(UInt32.random(in: .min ... .max), radix: 16)
            path = folder + "/.\(name).tmp-\(getpid())-\(suffix)"
            token = FileActivity.observer?.temporaryFileCreated(path)
            fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            if fd >= 0 || errno != EEXIST { break }
            if let token { FileActivity.observer?.temporaryFileGone(token) }
            token = nil
        }
        guard fd >= 0 else {
            let reason = PendingFile.errnoText()
            if let token { FileActivity.observer?.temporaryFileGone(token) }
            throw .cannotCreate(path: destination, reason: reason)
        }
        descriptor = fd
        temporaryPath = path
        activityToken = token
    }

    /// Unlinks `.NAME.tmp-PID-*` files in `folder` left by processes that no longer run.
    static func removeStaleTemporaries(in folder: String, name: String) {
        let prefix = ".\(name).tmp-"
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return }
        for entry in entries where entry.hasPrefix(prefix) {
            let rest = entry.dropFirst(prefix.count)
            guard let dash = rest.firstIndex(of: "-"), let pid = pid_t(rest[..<dash]), pid > 0, pid != getpid() else { continue }
            if kill(pid, 0) == -1 && errno == ESRCH {
                unlink(folder + "/" + entry)
            }
        }
    }

    /// The open descriptor of the temporary file, for writers that stream through C.
    public var fileDescriptor: Int32 { descriptor }

    public func write(_ bytes: UnsafeRawBufferPointer) throws(FileOutputError) {
        guard var base = bytes.baseAddress else { return }
        var remaining = bytes.count
        while remaining > 0 {
            let written = Foundation.write(descriptor, base, remaining)
            if written < 0 {
                if errno == EINTR { continue }
                // The kernel could not read the bytes handed to it: they view an input file's
                // mapping and that file shrank (a read of the same pages would be SIGBUS).
                if errno == EFAULT { throw .inputChanged(path: destination) }
                throw .writeFailed(path: destination, reason: PendingFile.errnoText())
            }
            remaining -= written
            base += written
        }
    }

    public func write(_ bytes: [UInt8]) throws(FileOutputError) {
        let result: Result<Void, FileOutputError> = bytes.withUnsafeBytes { buffer in
            do throws(FileOutputError) { try write(buffer) } catch { return .failure(error) }
            return .success(())
        }
        try result.get()
    }

    /// Writes `bytes` at `offset` without moving the append position (patching a header last).
    public func write(_ bytes: [UInt8], at offset: Int) throws(FileOutputError) {
        var done = 0
        while done < bytes.count {
            let written = bytes.withUnsafeBytes { pwrite(descriptor, $0.baseAddress! + done, bytes.count - done, off_t(offset + done)) }
            if written < 0 {
                if errno == EINTR { continue }
                throw .writeFailed(path: destination, reason: PendingFile.errnoText())
            }
            done += written
        }
    }

    /// Writes `count` zero bytes (alignment padding).
    public func writeZeros(_ count: Int) throws(FileOutputError) {
        guard count > 0 else { return }
        try write([UInt8](repeating: 0, count: count))
    }

    /// Gives the file ordinary permissions and renames it to `destination`.
    ///
    /// No fsync: the rename protects readers from partial files, which is the promise here;
    /// surviving a power cut is left to the file system, as `cp` does.
    public func commit() throws(FileOutputError) {
        guard !committed else { return }
        let mask = umask(0)
        umask(mask)
        fchmod(descriptor, 0o666 & ~mask)
        guard close(descriptor) == 0 else {
            descriptor = -1
            throw .writeFailed(path: destination, reason: PendingFile.errnoText())
        }
        descriptor = -1
        guard rename(temporaryPath, destination) == 0 else {
            let reason = PendingFile.errnoText()
            unlink(temporaryPath)
            committed = true
            if let activityToken { FileActivity.observer?.temporaryFileGone(activityToken) }
            throw .cannotRename(path: destination, reason: reason)
        }
        committed = true
        if let activityToken { FileActivity.observer?.temporaryFileGone(activityToken) }
    }

    deinit {
        if descriptor >= 0 { close(descriptor) }
        if !committed {
            unlink(temporaryPath)
            if let activityToken { FileActivity.observer?.temporaryFileGone(activityToken) }
        }
    }

    static func errnoText() -> String { String(cString: strerror(errno)) }
}

public enum FileOutputError: Error, Equatable, Sendable {
    case cannotCreate(path: String, reason: String)
    case writeFailed(path: String, reason: String)
    case cannotRename(path: String, reason: String)
    /// The bytes to write came from a mapped input that changed (shrank) while it was read.
    case inputChanged(path: String)
}

extension FileOutputError: CodedError {
    public var code: String {
        switch self {
        case .cannotCreate: "output-not-creatable"
        case .writeFailed: "write-failed"
        case .cannotRename: "rename-failed"
        case .inputChanged: "file-changed"
        }
    }

    public var errorDescription: String? {
        switch self {
        case .cannotCreate(let path, let reason): "\(path): cannot create the output file: \(reason)"
        case .writeFailed(let path, let reason): "\(path): writing failed: \(reason); nothing was written"
        case .cannotRename(let path, let reason): "\(path): cannot move the finished file into place: \(reason)"
        case .inputChanged(let path):
            "\(path): an input file changed (it shrank) while its data was being written here; nothing was written"
        }
    }
}
