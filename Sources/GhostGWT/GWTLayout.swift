import CZlib

/// Fixed facts of the .gwt layout (docs/gwt-format.md).
enum GWTLayout {
    static let magic: [UInt8] = [0x89, 0x47, 0x57, 0x54, 0x0D, 0x0A, 0x1A, 0x0A]
    static let majorVersion: UInt16 = 1
    static let minorVersion: UInt16 = 0
    static let headerSize = 64
    static let sectionEntrySize = 32
    static let alignment = 64
    static let maximumSections: UInt32 = 1024

    enum Kind: UInt32 {
        case metadata = 1
        case graph = 2
        case tensorData = 3

        var label: String {
            switch self {
            case .metadata: "metadata"
            case .graph: "graph"
            case .tensorData: "tensor data"
            }
        }
    }

    static func aligned(_ offset: Int) -> Int {
        (offset + alignment - 1) / alignment * alignment
    }

    static func crc32(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        crc32(continuing: 0, bytes)
    }

    /// The crc32 of the bytes before (whose crc32 is `previous`) followed by `bytes`.
    static func crc32(continuing previous: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return previous }
        // zlib takes a 32-bit length: feed large sections in pieces.
        var crc = uLong(previous)
        var offset = 0
        while offset < bytes.count {
            let piece = min(bytes.count - offset, 1 << 30)
            crc = CZlib.crc32(crc, base.advanced(by: offset).assumingMemoryBound(to: UInt8.self), uInt(piece))
            offset += piece
        }
        return UInt32(crc)
    }

    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBytes { crc32($0) }
    }
}

/// Little-endian field writing into a byte array.
struct LittleEndianWriter {
    private(set) var bytes: [UInt8] = []

    mutating func append<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func append(_ raw: [UInt8]) { bytes.append(contentsOf: raw) }

    mutating func pad(to size: Int) {
        if bytes.count < size { bytes.append(contentsOf: [UInt8](repeating: 0, count: size - bytes.count)) }
    }
}

/// Bounds-checked little-endian field reading from a mapped file.
struct LittleEndianReader {
    let bytes: UnsafeRawBufferPointer

    /// The value at `offset`, or nil when it does not fit in the bytes.
    func read<T: FixedWidthInteger>(_ type: T.Type, at offset: Int) -> T? {
        guard offset >= 0, offset <= bytes.count - MemoryLayout<T>.size else { return nil }
        return T(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: T.self))
    }
}
