import Foundation
import GhostIR

/// Reading and writing NumPy's .npy format (versions 1.0, 2.0, 3.0): a magic string, a version, a
/// little-endian header length, a Python-dict header ({'descr': …, 'fortran_order': …, 'shape': (…)})
/// padded to 64 bytes, then the array's bytes in C order.
public enum NumPyFile {
    static let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)
    static let dtypes: [String: ElementType] = ["<f4": .float32, "<f8": .float64, "<i8": .int64, "<i4": .int32, "|b1": .bool, "|u1": .uint8, "|i1": .int8]

    public static func read(path: String) throws(NPYFormatError) -> Tensor {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .unreadable(file: path, reason: FileManager.default.fileExists(atPath: path) ? "permission denied or not a file" : "no such file")
        }
        return try decode([UInt8](data), name: path)
    }

    public static func decode(_ bytes: [UInt8], name: String) throws(NPYFormatError) -> Tensor {
        guard bytes.count >= 10 else { throw bytes.starts(with: magic.prefix(bytes.count)) ? .truncated(file: name, offset: bytes.count, needed: 10 - bytes.count) : .badMagic(file: name) }
        guard Array(bytes[0..<6]) == magic else { throw .badMagic(file: name) }
        let (major, minor) = (Int(bytes[6]), Int(bytes[7]))
        let headerLength: Int, headerStart: Int
        switch major {
        case 1:
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            headerStart = 10
        case 2, 3:
            guard bytes.count >= 12 else { throw .truncated(file: name, offset: bytes.count, needed: 12 - bytes.count) }
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
            headerStart = 12
        default:
            throw .unsupportedVersion(file: name, major: major, minor: minor)
        }
        guard headerLength <= bytes.count - headerStart else {
            throw .truncated(file: name, offset: bytes.count, needed: headerStart + headerLength - bytes.count)
        }
        let headerBytes = bytes[headerStart..<(headerStart + headerLength)]
        // Versions 1 and 2 promise latin-1/ASCII; 3 is UTF-8. Our parser only needs ASCII.
        guard let header = String(bytes: headerBytes, encoding: major == 3 ? .utf8 : .isoLatin1) else {
            throw .invalidHeader(file: name, offset: headerStart, problem: "the header is not text")
        }
        let fields = try NPYHeader.parse(header, file: name, offset: headerStart)
        guard let type = dtypes[fields.descr] else { throw .unsupportedDType(file: name, descr: fields.descr) }
        guard !fields.fortranOrder else { throw .fortranOrder(file: name) }
        var count = 1
        for dimension in fields.shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
            guard !overflow else { throw .sizeOverflow(file: name, shape: fields.shape) }
            count = product
        }
        let (length, overflow) = count.multipliedReportingOverflow(by: type.byteSize)
        guard !overflow else { throw .sizeOverflow(file: name, shape: fields.shape) }
        let dataStart = headerStart + headerLength
        guard bytes.count - dataStart == length else {
            throw .dataLengthMismatch(file: name, expected: length, actual: bytes.count - dataStart)
        }
        let storage = bytes[dataStart...].withUnsafeBytes { TensorStorage(copying: $0) }
        do {
            return try Tensor(elementType: type, shape: fields.shape, storage: storage)
        } catch {
            throw .dataLengthMismatch(file: name, expected: length, actual: storage.bytes.count)
        }
    }

    /// The .npy encoding of `tensor` (version 1.0, or 2.0 when the header needs it).
    public static func encode(_ tensor: Tensor) throws(NPYFormatError) -> [UInt8] {
        guard let descr = dtypes.first(where: { $0.value == tensor.elementType })?.key else {
            throw .unsupportedDType(file: "(output)", descr: tensor.elementType.onnxName)
        }
        let shape = tensor.shape.isEmpty ? "()" : tensor.shape.count == 1 ? "(\(tensor.shape[0]),)"
            : "(" + tensor.shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shape), }"
        let large = header.utf8.count + 12 > 65_535
        let prefix = large ? 12 : 10
        // Pad with spaces so the data starts at a multiple of 64, ending the header with a newline.
        let total = (prefix + header.utf8.count + 1 + 63) / 64 * 64
        header += String(repeating: " ", count: total - prefix - header.utf8.count - 1) + "\n"
        var bytes = magic + [large ? 2 : 1, 0]
        let length = header.utf8.count
        bytes += large ? [UInt8(length & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length >> 16 & 0xFF), UInt8(length >> 24)]
            : [UInt8(length & 0xFF), UInt8(length >> 8)]
        bytes += Array(header.utf8)
        bytes += Array(tensor.storage.bytes)
        return bytes
    }

    /// Writes `tensor` atomically.
    public static func write(_ tensor: Tensor, to path: String) throws(NPYFormatError) {
        let bytes = try encode(tensor)
        do {
            let file = try PendingFile(destination: path)
            try file.write(bytes)
            try file.commit()
        } catch {
            throw .unwritable(file: path, reason: error.localizedDescription)
        }
    }
}
