import Foundation
import GhostIR
@testable import GhostNumPy
import Testing
import TestSupport

private func header(_ dict: String, version: UInt8 = 1) -> [UInt8] {
    var text = dict
    let prefix = version == 1 ? 10 : 12
    let total = (prefix + text.utf8.count + 1 + 63) / 64 * 64
    text += String(repeating: " ", count: total - prefix - text.utf8.count - 1) + "\n"
    let length = text.utf8.count
    var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [version, 0]
    bytes += version == 1 ? [UInt8(length & 0xFF), UInt8(length >> 8)] : [UInt8(length & 0xFF), UInt8(length >> 8), 0, 0]
    return bytes + Array(text.utf8)
}

private func floats(_ values: [Float]) -> [UInt8] { values.withUnsafeBytes { Array($0) } }

@Test(arguments: [UInt8(1), 2, 3])
func readsEveryHeaderVersion(version: UInt8) throws {
    let bytes = header("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", version: version) + floats([1, 2, 3, 4, 5, 6])
    let tensor = try NumPyFile.decode(bytes, name: "a.npy")
    #expect(tensor.shape == [2, 3])
    #expect(tensor.elements(as: Float.self) == [1, 2, 3, 4, 5, 6])
}

@Test func roundTripsEverySupportedType() throws {
    let tensors: [Tensor] = [
        try Tensor(float32: [1.5, -2], shape: [2]),
        try Tensor(float64: [3.25], shape: []),
        try Tensor(int64: [7, -8, 9], shape: [3, 1]),
        try Tensor(elementType: .int32, shape: [2], storage: TensorStorage(values: [Int32(4), -5])),
        try Tensor(elementType: .bool, shape: [2], storage: TensorStorage(values: [UInt8(1), 0])),
        try Tensor(elementType: .uint8, shape: [0, 3], storage: TensorStorage(values: [UInt8]())),
    ]
    for tensor in tensors {
        let bytes = try NumPyFile.encode(tensor)
        #expect(bytes.count % 64 == tensor.byteCount % 64, "data must start 64-byte aligned")
        #expect(try NumPyFile.decode(bytes, name: "x.npy") == tensor)
    }
}

@Test func readsFilesNumPyWrote() throws {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let tensor = try NumPyFile.read(path: root.appendingPathComponent("Models/repghostnet_100/input.npy").path)
    #expect(tensor.elementType == .float32)
    #expect(tensor.rank == 4)
}

/// A damaged file: named in the test log by its name, not its bytes.
struct DamagedArray: CustomTestStringConvertible, Sendable {
    let name: String
    let bytes: [UInt8]
    let code: String
    var testDescription: String { "\(name) → \(code)" }
}

@Test(arguments: [
    ("fortran", header("{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }") + floats([1, 2]), "fortran-order"),
    ("object", header("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }") + [0, 0, 0, 0, 0, 0, 0, 0], "unsupported-dtype"),
    ("big-endian", header("{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }") + floats([1]), "unsupported-dtype"),
    ("short data", header("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }") + floats([1, 2]), "data-length-mismatch"),
    ("overflow", header("{'descr': '<f8', 'fortran_order': False, 'shape': (4611686018427387904, 4), }"), "size-overflow"),
    ("negative", header("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }"), "invalid-header"),
    ("no shape", header("{'descr': '<f4', 'fortran_order': False, }"), "invalid-header"),
    ("bad magic", Array("PK\u{3}\u{4} not numpy at all".utf8), "bad-magic"),
    ("version 9", [0x93] + Array("NUMPY".utf8) + [9, 0, 0, 0], "unsupported-version"),
    ("header past end", [0x93] + Array("NUMPY".utf8) + [1, 0, 0xFF, 0x7F, 0x7B], "truncated"),
    ("too short", [0x93, 0x4E], "truncated"),
].map { DamagedArray(name: $0.0, bytes: $0.1, code: $0.2) })
func malformedFilesAreRefused(_ damaged: DamagedArray) {
    let (name, bytes, code) = (damaged.name, damaged.bytes, damaged.code)
    do {
        _ = try NumPyFile.decode(bytes, name: "\(name).npy")
        Issue.record("\(name) was accepted")
    } catch {
        #expect(error.code == code, "\(name): \(error.localizedDescription)")
        #expect(error.localizedDescription.contains("\(name).npy"))
    }
}

@Test func versionMinorMustBeZero() {
    var bytes = header("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }") + floats([1])
    bytes[7] = 1
    #expect(throws: NPYFormatError.unsupportedVersion(file: "m.npy", major: 1, minor: 1)) { try NumPyFile.decode(bytes, name: "m.npy") }
}

@Test func versionThreeHeadersAreUTF8() throws {
    // A version 3.0 header is UTF-8 text; a byte that is not UTF-8 is refused.
    var bytes = header("{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }", version: 3)
    bytes += [Int64(-3), 4].withUnsafeBytes { Array($0) }
    #expect(try NumPyFile.decode(bytes, name: "u.npy").elements(as: Int64.self) == [-3, 4])
    var broken = bytes
    broken[20] = 0xFF  // inside the header text
    #expect(throws: NPYFormatError.self) { try NumPyFile.decode(broken, name: "u.npy") }
}

@Test(arguments: [("<i1", ElementType.int8), ("=f8", .float64), ("<u1", .uint8), ("|b1", .bool), ("<i4", .int32)])
func dtypeSpellings(descr: String, type: ElementType) throws {
    let bytes = header("{'descr': '\(descr)', 'fortran_order': False, 'shape': (0,), }")
    #expect(try NumPyFile.decode(bytes, name: "d.npy").elementType == type)
}

@Test func encodingChoosesVersionTwoForHugeHeaders() throws {
    // 30 000 axes of size 1: the header outgrows version 1.0's 16-bit length.
    let tensor = try Tensor(float32: [2.5], shape: [Int](repeating: 1, count: 30_000))
    let bytes = try NumPyFile.encode(tensor)
    #expect(bytes[6] == 2 && bytes[7] == 0)
    let length = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
    #expect((12 + length) % 64 == 0)
    #expect(try NumPyFile.decode(bytes, name: "big.npy") == tensor)
}

@Test func writeAndReadBackThroughAFile() throws {
    let directory = try temporaryDirectory("npy")
    defer { try? FileManager.default.removeItem(at: directory) }
    let path = directory.appendingPathComponent("x.npy").path
    let tensor = try Tensor(float64: [1, -2.5, .pi, 1e-300], shape: [2, 2])
    try NumPyFile.write(tensor, to: path)
    #expect(try NumPyFile.read(path: path) == tensor)
    // Nothing but the file itself is left in the directory (the temporary file was renamed).
    #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["x.npy"])
    let unsupported = try Tensor(elementType: .uint16, shape: [1], storage: TensorStorage(values: [UInt16(1)]))
    #expect(throws: NPYFormatError.unsupportedDType(file: path, descr: "uint16")) { try NumPyFile.write(unsupported, to: path) }
    #expect(throws: NPYFormatError.self) { try NumPyFile.read(path: directory.appendingPathComponent("missing.npy").path) }
}
