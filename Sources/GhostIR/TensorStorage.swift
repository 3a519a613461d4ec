import Foundation

/// Immutable bytes behind a tensor: memory this object allocated, a read-only view into memory
/// that another object keeps alive (a memory-mapped file, an unpacked protobuf message), or bytes
/// computed on first use from a recipe. Views are what let a loaded model hold its weights
/// exactly once; deferred storage is what lets a chain of rewrites (fold, pad, merge) compute a
/// weight once, at the end, instead of after every step.
public final class TensorStorage: @unchecked Sendable {
    // Sendable is sound: the bytes are never written after they are made available (deferred
    // bytes are made under a lock, once), and the viewed owner is only retained (for lifetime), never used.
    private let immediateBytes: UnsafeRawBufferPointer
    private let backing: Backing

    /// Where the bytes come from. One word (the cases' references share it), so an object is
    /// 40 bytes and a 200k-node graph's 400k weights take 48-byte blocks instead of 64.
    private enum Backing {
        /// `immediateBytes` is this object's allocation (or empty).
        case owned
        /// `immediateBytes` views memory this keeps alive.
        case view(AnyObject)
        case deferred(Deferred)
    }

    private var deferred: Deferred? {
        if case .deferred(let deferred) = backing { return deferred }
        return nil
    }

    /// The bytes; for deferred storage they are computed by the first access (on any thread).
    public var bytes: UnsafeRawBufferPointer {
        guard case .deferred(let deferred) = backing else { return immediateBytes }
        return deferred.resolve()
    }

    /// How many bytes there are, without computing deferred ones.
    public var byteCount: Int {
        guard case .deferred(let deferred) = backing else { return immediateBytes.count }
        return deferred.byteCount
    }

    /// What deferred storage will be computed from (given at creation), until it has been; nil
    /// for other storage. A rewrite that reads a deferred weight can combine its recipe instead
    /// of its bytes.
    public var recipe: (any Sendable)? { deferred?.pendingRecipe }

    /// Whether deferred bytes have been computed (true for every other storage).
    public var isComputed: Bool { deferred?.isComputed ?? true }

    /// A view of `bytes`, valid as long as `owner` is alive; the storage retains `owner`.
    public init(viewing bytes: UnsafeRawBufferPointer, owner: AnyObject) {
        self.immediateBytes = bytes
        self.backing = .view(owner)
    }

    /// Storage of `byteCount` bytes that `produce` writes, every one of them, on first access
    /// to `bytes`. `recipe` is what the bytes are made from, readable until then as `recipe`.
    public init(deferredByteCount byteCount: Int, recipe: any Sendable,
                produce: @escaping @Sendable (UnsafeMutableRawBufferPointer) -> Void) {
        self.immediateBytes = UnsafeRawBufferPointer(start: nil, count: 0)
        self.backing = .deferred(Deferred(byteCount: byteCount, recipe: recipe, produce: produce))
    }

    /// The lazily computed bytes of deferred storage and the lock that makes them once.
    private final class Deferred: @unchecked Sendable {
        let byteCount: Int
        private let lock = NSLock()
        private var recipe: (any Sendable)?
        private var produce: (@Sendable (UnsafeMutableRawBufferPointer) -> Void)?
        private var memory: UnsafeMutableRawBufferPointer?

        init(byteCount: Int, recipe: any Sendable, produce: @escaping @Sendable (UnsafeMutableRawBufferPointer) -> Void) {
            self.byteCount = byteCount
            self.recipe = recipe
            self.produce = produce
        }

        var pendingRecipe: (any Sendable)? { lock.withLock { recipe } }
        var isComputed: Bool { lock.withLock { memory != nil } }

        func resolve() -> UnsafeRawBufferPointer {
            lock.withLock {
                if let memory { return UnsafeRawBufferPointer(memory) }
                let allocation = UnsafeMutableRawBufferPointer.allocate(byteCount: max(byteCount, 1), alignment: 64)
                let made = UnsafeMutableRawBufferPointer(rebasing: allocation[0..<byteCount])
                produce?(made)
                // The recipe may hold the sources (other tensors) alive: let them go.
                produce = nil
                recipe = nil
                memory = made
                return UnsafeRawBufferPointer(made)
            }
        }

        deinit {
            if let memory, let base = memory.baseAddress { base.deallocate() }
        }
    }

    /// A private copy of `source`.
    public init(copying source: UnsafeRawBufferPointer) {
        let memory = UnsafeMutableRawBufferPointer.allocate(
            byteCount: max(source.count, 1), alignment: 64)
        if source.count > 0, let base = source.baseAddress {
            memory.baseAddress!.copyMemory(from: base, byteCount: source.count)
        }
        self.immediateBytes = UnsafeRawBufferPointer(rebasing: memory[0..<source.count])
        self.backing = .owned
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
        self.immediateBytes = UnsafeRawBufferPointer(rebasing: memory[0..<byteCount])
        self.backing = .owned
    }

    /// Storage holding the little-endian bytes of `values`.
    public convenience init<T: BitwiseCopyable>(values: [T]) {
        self.init(byteCount: values.count * MemoryLayout<T>.stride) { destination in
            values.withUnsafeBytes { destination.copyMemory(from: $0) }
        }
    }

    /// Whether the bytes are a view into memory owned elsewhere (a mapped file or a message).
    public var isView: Bool {
        if case .view = backing { return true }
        return false
    }

    deinit {
        if case .owned = backing, let base = immediateBytes.baseAddress {
            UnsafeMutableRawPointer(mutating: base).deallocate()
        } else if case .view(let owner) = backing, let file = owner as? MappedFile {
            // This view is gone (a weight a pass replaced): its pages may go; any other view of
            // them reads them back from the file.
            file.releasePages(of: immediateBytes)
        }
    }
}
