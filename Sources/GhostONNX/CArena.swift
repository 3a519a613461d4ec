import CProtobufC
import Foundation

/// C memory for one message tree being packed: everything allocated here is freed together when
/// the arena goes, so building a ModelProto for protobuf-c needs no per-field bookkeeping.
///
/// Allocations are carved out of zeroed 1 MiB chunks (larger requests get a chunk of their own):
/// a 200k-node graph needs millions of small messages, strings and arrays, and one `calloc` and
/// one `free` for each cost as much as building and packing the messages themselves.
final class CArena {
    private var chunks: [UnsafeMutableRawPointer] = []
    private var cursor: UnsafeMutableRawPointer?
    private var remaining = 0
    private static let chunkSize = 1 << 20
    /// Enough for every C type in the messages (pointers, 64-bit integers, doubles).
    private static let alignment = 16

    deinit {
        for chunk in chunks { free(chunk) }
    }

    /// `byteCount` zeroed bytes at a 16-byte boundary.
    private func zeroed(byteCount: Int) -> UnsafeMutableRawPointer {
        // Sizes come from arrays already in memory; rounding up cannot overflow for them.
        let size = (max(byteCount, 1) + Self.alignment - 1) & ~(Self.alignment - 1)
        if size <= remaining, let block = cursor {
            cursor = block + size
            remaining -= size
            return block
        }
        let length = max(size, Self.chunkSize)
        // Out of memory is not a condition this writer can report usefully.
        let chunk = calloc(1, length)!
        chunks.append(chunk)
        if size >= Self.chunkSize { return chunk }  // a large block leaves the current chunk open
        cursor = chunk + size
        remaining = length - size
        return chunk
    }

    /// `count` zeroed values of `T`.
    func allocate<T>(_ type: T.Type, count: Int = 1) -> UnsafeMutablePointer<T> {
        zeroed(byteCount: count * MemoryLayout<T>.stride).bindMemory(to: T.self, capacity: max(count, 1))
    }

    /// A NUL-terminated copy of `string`'s UTF-8 (the C string stops at an embedded NUL, as
    /// `strdup` would make it).
    private func copy(_ string: String) -> UnsafeMutablePointer<CChar> {
        var string = string
        return string.withUTF8 { utf8 in
            let memory = zeroed(byteCount: utf8.count + 1)  // zeroed: the terminator is there
            if let base = utf8.baseAddress, utf8.count > 0 { memory.copyMemory(from: base, byteCount: utf8.count) }
            return memory.assumingMemoryBound(to: CChar.self)
        }
    }

    /// A NUL-terminated copy of `string`, or nil for "" (absent in the encoding).
    func string(_ string: String) -> UnsafeMutablePointer<CChar>? {
        string.isEmpty ? nil : copy(string)
    }

    /// `values` copied into C memory; (count, pointer) as protobuf-c's repeated fields want.
    func array<T>(_ values: [T]) -> (Int, UnsafeMutablePointer<T>?) {
        guard !values.isEmpty else { return (0, nil) }
        let pointer = allocate(T.self, count: values.count)
        pointer.initialize(from: values, count: values.count)
        return (values.count, pointer)
    }

    /// Integers widened to Int64 into C memory (dims), without an intermediate array.
    func int64s(_ values: [Int]) -> (Int, UnsafeMutablePointer<Int64>?) {
        guard !values.isEmpty else { return (0, nil) }
        let pointer = allocate(Int64.self, count: values.count)
        for (index, value) in values.enumerated() { pointer[index] = Int64(value) }
        return (values.count, pointer)
    }

    func strings(_ values: [String]) -> (Int, UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) {
        // Repeated strings keep empty entries (an omitted optional input is "").
        guard !values.isEmpty else { return (0, nil) }
        let pointer = allocate(UnsafeMutablePointer<CChar>?.self, count: values.count)
        for (index, value) in values.enumerated() { pointer[index] = copy(value) }
        return (values.count, pointer)
    }

    /// Bytes copied into C memory.
    func binary(_ bytes: [UInt8]) -> ProtobufCBinaryData {
        let (count, pointer) = array(bytes)
        return ProtobufCBinaryData(len: count, data: pointer)
    }
}

/// A view of bytes that stay alive elsewhere (tensor storage) for protobuf-c to read while packing.
func binaryView(_ bytes: UnsafeRawBufferPointer) -> ProtobufCBinaryData {
    ProtobufCBinaryData(len: bytes.count, data: bytes.baseAddress.map {
        UnsafeMutablePointer(mutating: $0.assumingMemoryBound(to: UInt8.self))
    })
}
