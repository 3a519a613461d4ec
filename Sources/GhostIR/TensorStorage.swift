import Foundation

/// Immutable bytes behind a tensor: either memory this object allocated, or a read-only view
/// into memory that another object keeps alive (a memory-mapped file, an unpacked protobuf
/// message). Views are what let a loaded model hold its weights exactly once.
public final class TensorStorage: @unchecked Sendable {
    // Sendable is sound: the bytes are never written after initialization, and `owner` is only
    // retained (for lifetime), never used.
    public let bytes: UnsafeRawBufferPointer
    private let owner: AnyObject?
    private let ownsAllocation: Bool

    /// A view of `bytes`, valid as long as `owner` is alive; the storage retains `owner`.
    public init(viewing bytes: UnsafeRawBufferPointer, owner: AnyObject) {
        self.bytes = bytes
        self.owner = owner
        self.ownsAllocation = false
    }

    /// A private copy of `source`.
    public init(copying source: UnsafeRawBufferPointer) {
        let memory = UnsafeMutableRawBufferPointer.allocate(
            byteCount: max(source.count, 1), alignment: 64)
        if source.count > 0, let base = source.baseAddress {
            memory.baseAddress!.copyMemory(from: base, byteCount: source.count)
        }
        self.bytes = UnsafeRawBufferPointer(rebasing: memory[0..<source.count])
        self.owner = nil
        self.ownsAllocation = true
    }

    /// Storage filled by `initialize`, which must write all `byteCount` bytes.
    public init(byteCount: Int, initialize: (UnsafeMutableRawBufferPointer) throws -> Void) rethrows {
        let memory = UnsafeMutableRawBufferPointer.allocate(byteCount: max(byteCount, 1), alignment: 64)
        do {
            try initialize(UnsafeMutableRawBufferPointer(rebasing: memory[0..<byteCount]))
        } catch {
            memory.deallocate()
            throw error
        }
        self.bytes = UnsafeRawBufferPointer(rebasing: memory[0..<byteCount])
        self.owner = nil
        self.ownsAllocation = true
    }

    /// Storage holding the little-endian bytes of `values`.
    public convenience init<T: BitwiseCopyable>(values: [T]) {
        self.init(byteCount: values.count * MemoryLayout<T>.stride) { destination in
            values.withUnsafeBytes { destination.copyMemory(from: $0) }
        }
    }

    /// Whether the bytes are a view into memory owned elsewhere (a mapped file or a message).
    public var isView: Bool { !ownsAllocation }

    deinit {
        if ownsAllocation, let base = bytes.baseAddress {
            UnsafeMutableRawPointer(mutating: base).deallocate()
        } else if let file = owner as? MappedFile {
            // This view is gone (a weight a pass replaced): its pages may go; any other view of
            // them reads them back from the file.
            file.releasePages(of: bytes)
        }
    }
}
