extension Array {
    /// An array of exactly `count` elements that `body` initializes, every one of them (the
    /// standard `init(unsafeUninitializedCapacity:initializingWith:)` without the count).
    ///
    /// For zero elements this is `[]` and `body` is not called: the standard initializer would
    /// write the count into the shared empty-array singleton, a data race (ThreadSanitizer
    /// reports it) when two threads make empty arrays at once.
    @inlinable
    public init(filling count: Int, _ body: (UnsafeMutableBufferPointer<Element>) throws -> Void) rethrows {
        guard count > 0 else {
            self = []
            return
        }
        self = try Array(unsafeUninitializedCapacity: count) { buffer, initialized in
            try body(buffer)
            initialized = count
        }
    }
}
