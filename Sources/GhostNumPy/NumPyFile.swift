import Foundation
import GhostIR

/// Reading and writing NumPy's .npy format (versions 1.0, 2.0, 3.0): the magic `\x93NUMPY`, a
/// version, a little-endian header length (2 bytes in 1.0, 4 in 2.0/3.0), a Python-dict header
/// ({'descr': …, 'fortran_order': …, 'shape': (…)}; latin-1 in 1.0/2.0, UTF-8 in 3.0), then the
/// array's bytes in C order.
///
/// Read: `<f4 <f8 <i8 <i4 |b1 |u1 |i1` (`|`/`=`/`<` byte orders as NumPy spells them for the
/// type), C order. Fortran order, object and structured arrays, big-endian data, pickles,
/// trailing or missing data are refused with an `NPYFormatError` naming the file and the byte
/// offset or header field. Every length from the file is bounds- and overflow-checked.
public enum NumPyFile {
    static let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)
    /// The dtypes read and written, by the descr NumPy writes for them.
    static let dtypes: [(descr: String, type: ElementType)] = [
        ("<f4", .float32), ("<f8", .float64), ("<i8", .int64), ("<i4", .int32), ("|b1", .bool), ("|u1", .uint8), ("|i1", .int8),
    ]
    /// Other spellings NumPy accepts for the same little-endian types on a little-endian machine.
    static let aliases: [String: ElementType] = [
        "=f4": .float32, "=f8": .float64, "=i8": .int64, "=i4": .int32, "<b1": .bool, "=b1": .bool,
        "<u1": .uint8, "=u1": .uint8, "<i1": .int8, "=i1": .int8,
    ]

    static func elementType(of descr: String) -> ElementType? {
        dtypes.first { $0.descr == descr }?.type ?? aliases[descr]
    }

    /// Reads the array in the .npy file at `path` into a tensor with its own copy of the data.
    public static func read(path: String) throws(NPYFormatError) -> Tensor {
        let file: MappedFile
        do {
            file = try MappedFile(path: path)
        } catch {
            throw .file(error)
        }
        return try decode(file.bytes, name: path)
    }

    /// Decodes .npy bytes; `name` stands for the file in errors.
    public static func decode(_ bytes: [UInt8], name: String) throws(NPYFormatError) -> Tensor {
        // withUnsafeBytes rethrows untyped errors: carry the result out instead.
        let result = bytes.withUnsafeBytes { raw in Result { () throws(NPYFormatError) -> Tensor in try decode(raw, name: name) } }
        return try result.get()
    }

    static func decode(_ bytes: UnsafeRawBufferPointer, name: String) throws(NPYFormatError) -> Tensor {
        guard bytes.count >= 10 else {
            let prefix = Array(bytes)
            throw magic.starts(with: prefix) || prefix.starts(with: magic)
                ? .truncated(file: name, offset: bytes.count, needed: 10 - bytes.count) : .badMagic(file: name)
        }
        guard Array(bytes[0..<6]) == magic else { throw .badMagic(file: name) }
        let (major, minor) = (Int(bytes[6]), Int(bytes[7]))
        guard (1...3).contains(major), minor == 0 else { throw .unsupportedVersion(file: name, major: major, minor: minor) }
        let headerStart = major == 1 ? 10 : 12
        guard bytes.count >= headerStart else { throw .truncated(file: name, offset: bytes.count, needed: headerStart - bytes.count) }
        var headerLength = 0
        for (shift, index) in (8..<headerStart).enumerated() { headerLength |= Int(bytes[index]) << (8 * shift) }
        guard headerLength <= bytes.count - headerStart else {
            throw .truncated(file: name, offset: bytes.count, needed: headerStart + headerLength - bytes.count)
        }
        let header = Array(bytes[headerStart..<(headerStart + headerLength)])
        // Versions 1 and 2 promise latin-1: the header grammar is ASCII, so non-ASCII bytes can
        // only sit inside strings, where they make an unknown descr.
        if major == 3, String(validating: header, as: UTF8.self) == nil {
            throw .invalidHeader(file: name, offset: headerStart, problem: "a version 3.0 header must be UTF-8 text")
        }
        let fields = try NPYHeader.parse(header[...], file: name, offset: headerStart)
        guard let type = elementType(of: fields.descr) else { throw .unsupportedDType(file: name, descr: fields.descr) }
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
        let storage = TensorStorage(copying: UnsafeRawBufferPointer(rebasing: bytes[dataStart...]))
        do {
            return try Tensor(elementType: type, shape: fields.shape, storage: storage)
        } catch {
            throw .dataLengthMismatch(file: name, expected: length, actual: storage.bytes.count)
        }
    }

    /// The .npy encoding of `tensor`: version 1.0, or 2.0 when the header outgrows 1.0's 16-bit
    /// length; data 64-byte aligned. `name` stands for the destination in errors.
    public static func encode(_ tensor: Tensor, name: String = "(output)") throws(NPYFormatError) -> [UInt8] {
        guard let descr = dtypes.first(where: { $0.type == tensor.elementType })?.descr else {
            throw .unsupportedDType(file: name, descr: tensor.elementType.onnxName)
        }
        let shape = tensor.shape.isEmpty ? "()" : tensor.shape.count == 1 ? "(\(tensor.shape[0]),)"
            : "(" + tensor.shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shape), }"
        let large = header.utf8.count + 1 + 10 > 65_535
        let prefix = large ? 12 : 10
        // Pad with spaces so the data starts at a multiple of 64, ending the header with a newline.
        let total = (prefix + header.utf8.count + 1 + 63) / 64 * 64
        header += String(repeating: " ", count: total - prefix - header.utf8.count - 1) + "\n"
        var bytes = magic + [large ? 2 : 1, 0]
        let length = header.utf8.count
        for shift in 0..<(prefix - 8) { bytes.append(UInt8(truncatingIfNeeded: length >> (8 * shift))) }
        bytes += Array(header.utf8)
        bytes += Array(tensor.storage.bytes)
        return bytes
    }

    /// Writes `tensor` to `path` atomically: a temporary file in the same directory, renamed
    /// into place when complete.
    public static func write(_ tensor: Tensor, to path: String) throws(NPYFormatError) {
        let bytes = try encode(tensor, name: path)
        do {
            let file = try PendingFile(destination: path)
            try file.write(bytes)
            try file.commit()
        } catch {
            throw .unwritable(file: path, reason: error.localizedDescription)
        }
    }
}
