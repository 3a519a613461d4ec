import Foundation

/// A whole file mapped read-only into memory. The mapping lives as long as this object, so
/// tensors viewing it (`TensorStorage(viewing:owner:)`) keep it alive.
public final class MappedFile: @unchecked Sendable {
    // Sendable is sound: the mapping is read-only and unmapped only in deinit.
    public let path: String
    public let bytes: UnsafeRawBufferPointer

    /// Maps `path`; a zero-length file maps to an empty buffer.
    public init(path: String) throws(FileMappingError) {
        self.path = path
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw .cannotOpen(path: path, reason: MappedFile.errnoText()) }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw .cannotOpen(path: path, reason: MappedFile.errnoText()) }
        guard (status.st_mode & S_IFMT) == S_IFREG else {
            throw .cannotOpen(path: path, reason: "not a regular file")
        }
        let size = Int(status.st_size)
        guard size > 0 else {
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        guard let address = mmap(nil, size, PROT_READ, MAP_PRIVATE, descriptor, 0), address != MAP_FAILED else {
            throw .cannotOpen(path: path, reason: "cannot map it into memory: \(MappedFile.errnoText())")
        }
        bytes = UnsafeRawBufferPointer(start: address, count: size)
    }

    /// Tells the kernel the pages will be read once, front to back.
    public func adviseSequential() {
        if let base = bytes.baseAddress {
            madvise(UnsafeMutableRawPointer(mutating: base), bytes.count, MADV_SEQUENTIAL)
        }
    }

    deinit {
        if let base = bytes.baseAddress {
            munmap(UnsafeMutableRawPointer(mutating: base), bytes.count)
        }
    }

    static func errnoText() -> String {
        String(cString: strerror(errno))
    }
}

public enum FileMappingError: Error, Equatable, Sendable {
    case cannotOpen(path: String, reason: String)

    public var reason: String {
        switch self {
        case .cannotOpen(_, let reason): reason
        }
    }
}
