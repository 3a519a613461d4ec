import Foundation

/// A whole file mapped read-only into memory. The mapping lives as long as this object, so
/// tensors viewing it (`TensorStorage(viewing:owner:)`) keep it alive.
public final class MappedFile: @unchecked Sendable {
    // Sendable is sound: the mapping is read-only and unmapped only in deinit.
    public let path: String
    public let bytes: UnsafeRawBufferPointer
    /// The token `FileActivity.observer` gave for this mapping.
    private let activityToken: Int?

    /// Maps `path`; a zero-length file maps to an empty buffer. Anything but a regular file (a
    /// directory, FIFO, device or socket) is refused; the file is opened without blocking, so a
    /// FIFO with no writer cannot hang the process.
    public init(path: String) throws(FileMappingError) {
        self.path = path
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard descriptor >= 0 else {
            if errno == EISDIR { throw .notARegularFile(path: path, kind: "a directory") }
            throw .cannotOpen(path: path, reason: MappedFile.errnoText())
        }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw .cannotOpen(path: path, reason: MappedFile.errnoText()) }
        guard (status.st_mode & S_IFMT) == S_IFREG else {
            throw .notARegularFile(path: path, kind: MappedFile.kind(of: status.st_mode))
        }
        let size = Int(status.st_size)
        guard size > 0 else {
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            activityToken = nil
            return
        }
        guard let address = mmap(nil, size, PROT_READ, MAP_PRIVATE, descriptor, 0), address != MAP_FAILED else {
            throw .cannotOpen(path: path, reason: "cannot map it into memory: \(MappedFile.errnoText())")
        }
        bytes = UnsafeRawBufferPointer(start: address, count: size)
        // A file that shrinks while mapped faults (SIGBUS) on the pages past its new end; the
        // observer turns that into an error naming the file.
        activityToken = FileActivity.observer?.fileMapped(base: UnsafeRawPointer(address), count: size, path: path)
    }

    /// Tells the kernel the pages will be read once, front to back.
    public func adviseSequential() {
        if let base = bytes.baseAddress {
            madvise(UnsafeMutableRawPointer(mutating: base), bytes.count, MADV_SEQUENTIAL)
        }
    }

    /// Drops the whole pages inside `range` (a part of this mapping nothing will read again soon)
    /// from the process's memory. The mapping is private and never written, so a later read
    /// faults the same bytes back in from the file: this changes memory use, never contents.
    /// When a large model is fused, the folded originals' pages go as the new weights appear.
    public func releasePages(of range: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, let start = range.baseAddress, range.count >= MappedFile.releaseThreshold else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let lower = max(Int(bitPattern: start), Int(bitPattern: base))
        let upper = min(Int(bitPattern: start) + range.count, Int(bitPattern: base) + bytes.count)
        let first = (lower + page - 1) / page * page, last = upper / page * page
        guard last > first, let address = UnsafeMutableRawPointer(bitPattern: first) else { return }
        madvise(address, last - first, MADV_DONTNEED)
    }

    /// Smaller views are not worth a system call.
    static let releaseThreshold = 1 << 20

    deinit {
        if let base = bytes.baseAddress {
            if let activityToken { FileActivity.observer?.fileUnmapped(activityToken) }
            munmap(UnsafeMutableRawPointer(mutating: base), bytes.count)
        }
    }

    static func errnoText() -> String {
        String(cString: strerror(errno))
    }

    static func kind(of mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFDIR: "a directory"
        case S_IFIFO: "a FIFO (named pipe)"
        case S_IFCHR: "a character device"
        case S_IFBLK: "a block device"
        case S_IFSOCK: "a socket"
        default: "not a regular file"
        }
    }
}

public enum FileMappingError: Error, Equatable, Sendable {
    case cannotOpen(path: String, reason: String)
    /// A directory, FIFO, device or socket where a file was expected (`kind` says which).
    case notARegularFile(path: String, kind: String)

    public var reason: String {
        switch self {
        case .cannotOpen(_, let reason): reason
        case .notARegularFile(_, let kind): "it is \(kind), not a regular file"
        }
    }
}

extension FileMappingError: CodedError {
    public var code: String {
        switch self {
        case .cannotOpen: "file-unreadable"
        case .notARegularFile: "not-a-regular-file"
        }
    }

    public var errorDescription: String? {
        switch self {
        case .cannotOpen(let path, let reason): "\(path): cannot read the file: \(reason)"
        case .notARegularFile(let path, let kind): "\(path): it is \(kind), not a regular file; give a model file"
        }
    }
}
