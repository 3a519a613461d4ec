import CProtobufC
import Foundation

/// C memory for one message tree being packed: everything allocated here is freed together when
/// the arena goes, so building a ModelProto for protobuf-c needs no per-field bookkeeping.
final class CArena {
    private var blocks: [UnsafeMutableRawPointer] = []

    deinit {
        for block in blocks { free(block) }
    }

    /// `count` zeroed values of `T`.
    func allocate<T>(_ type: T.Type, count: Int = 1) -> UnsafeMutablePointer<T> {
        let block = calloc(max(count, 1), MemoryLayout<T>.stride)!
        blocks.append(block)
        return block.bindMemory(to: T.self, capacity: max(count, 1))
    }

    /// A NUL-terminated copy of `string`, or nil for "" (absent in the encoding).
    func string(_ string: String) -> UnsafeMutablePointer<CChar>? {
        guard !string.isEmpty else { return nil }
        let copy = strdup(string)!
        blocks.append(UnsafeMutableRawPointer(copy))
        return copy
    }

    /// `values` copied into C memory; (count, pointer) as protobuf-c's repeated fields want.
    func array<T>(_ values: [T]) -> (Int, UnsafeMutablePointer<T>?) {
        guard !values.isEmpty else { return (0, nil) }
        let pointer = allocate(T.self, count: values.count)
        pointer.initialize(from: values, count: values.count)
        return (values.count, pointer)
    }

    func strings(_ values: [String]) -> (Int, UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) {
        // Repeated strings keep empty entries (an omitted optional input is "").
        array(values.map { value -> UnsafeMutablePointer<CChar>? in
            let copy = strdup(value)!
            blocks.append(UnsafeMutableRawPointer(copy))
            return copy
        })
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
