import Foundation
import TestSupport
@testable import GhostGWT
import GhostIR
import Testing

/// Writes the fixture, lets `edit` damage it, and returns the reader's error.
private func readError(_ edit: (inout GWTFileSurgery) -> Void) throws -> GWTFormatError? {
    try readErrorAndPath(edit).error
}

/// `readError`, with the path the damaged file had (the one errors must name).
private func readErrorAndPath(_ edit: (inout GWTFileSurgery) -> Void) throws -> (error: GWTFormatError?, path: String) {
    let directory = try temporaryDirectory("gwt")
    defer { try? FileManager.default.removeItem(at: directory) }
    let path = directory.appendingPathComponent("model.gwt").path
    try GWTWriter.write(try GWTFixtures.graph(), metadata: GWTFixtures.metadata, to: path)
    var file = try GWTFileSurgery(path: path)
    edit(&file)
    try file.write(to: path)
    do {
        _ = try GWTReader.read(path: path)
        return (nil, path)
    } catch {
        #expect(error.localizedDescription.contains("model.gwt"))
        return (error, path)
    }
}

@Test func corruptTensorByteFailsTheChecksum() throws {
    let error = try readError { file in
        let data = file.section(2)
        file.bytes[data.offset + 5] ^= 0x01
    }
    #expect(error?.code == "checksum-mismatch")
    #expect(error?.localizedDescription.contains("section 2") == true)
}

@Test func truncationIsALengthMismatch() throws {
    #expect(try readError { $0.bytes.removeLast(10) }?.code == "length-mismatch")
    #expect(try readError { $0.bytes.removeLast($0.bytes.count - 20) }?.code == "truncated")
}

@Test func wrongMagicIsRefused() throws {
    #expect(try readError { $0.bytes[1] = 0x48 }?.code == "bad-magic")
}

@Test func newerMajorVersionIsRefusedNewerMinorAccepted() throws {
    let (newer, path) = try readErrorAndPath { file in
        file.set(UInt16(2), at: 8)
        file.repairChecksums()
    }
    #expect(newer == .unsupportedVersion(file: path, major: 2, minor: 0))
    let minor = try readError { file in
        file.set(UInt16(7), at: 10)
        file.repairChecksums()
    }
    #expect(minor == nil)
}

@Test func headerBitFlipFailsTheHeaderChecksum() throws {
    #expect(try readError { $0.bytes[13] ^= 0x40 }?.code == "checksum-mismatch")
}

@Test func sectionOutsideTheFileIsRefused() throws {
    let error = try readError { file in
        file.set(UInt64(1 << 40), at: 64 + 32 + 16)
        file.repairChecksums()
    }
    #expect(error?.code == "invalid-section")
}

@Test func overflowingSectionOffsetIsRefused() throws {
    let error = try readError { file in
        file.set(UInt64.max - 8, at: 64 + 8)
        file.set(UInt64(64), at: 64 + 16)
        file.repairChecksums()
    }
    #expect(error?.code == "invalid-section")
}

@Test func misalignedSectionIsRefused() throws {
    let error = try readError { file in
        let metadata = file.section(0)
        file.set(UInt64(metadata.offset + 1), at: 64 + 8)
        file.set(UInt64(metadata.length - 1), at: 64 + 16)
        file.repairChecksums()
    }
    #expect(error?.localizedDescription.contains("not a multiple of 64") == true)
}

@Test func tensorLengthDisagreeingWithShapeIsRefused() throws {
    let (error, path) = try readErrorAndPath { file in
        file.replaceJSON(section: 1) { $0.replacingOccurrences(of: "\"length\":288,\"name\":\"conv.weight\"", with: "\"length\":280,\"name\":\"conv.weight\"") }
        file.repairChecksums()
    }
    #expect(error == .invalidTensor(file: path,
                                    tensor: "conv.weight", problem: "length 280 does not match shape [8, 1, 3, 3] of float32"))
}

@Test func hugeShapeOverflowIsRefused() throws {
    let error = try readError { file in
        file.replaceJSON(section: 1) { $0.replacingOccurrences(of: "\"shape\":[8,1,3,3]", with: "\"shape\":[4611686018427387904,4]") }
        file.repairChecksums()
    }
    #expect(error?.code == "invalid-tensor")
    #expect(error?.localizedDescription.contains("64 bits") == true)
}

@Test func tensorOffsetPastTheDataIsRefused() throws {
    let error = try readError { file in
        file.replaceJSON(section: 1) { $0.replacingOccurrences(of: "\"offset\":0", with: "\"offset\":6400") }
        file.repairChecksums()
    }
    #expect(error?.localizedDescription.contains("lie outside") == true)
}

@Test func missingJSONKeyIsNamed() throws {
    let error = try readError { file in
        file.replaceJSON(section: 1) { $0.replacingOccurrences(of: "\"op_type\":\"Conv\",", with: "") }
        file.repairChecksums()
    }
    #expect(error?.code == "invalid-json")
    #expect(error?.localizedDescription.contains("op_type") == true)
}

@Test func danglingNodeInputIsAGraphError() throws {
    let error = try readError { file in
        file.replaceJSON(section: 1) { $0.replacingOccurrences(of: "[\"c\",\"k.out\"]", with: "[\"c\",\"k.oops\"]") }
        file.repairChecksums()
    }
    #expect(error?.code == "undefined-input")
}

@Test func attributeTensorIndexOutOfRangeIsRefused() throws {
    let error = try readError { file in
        file.replaceJSON(section: 1) { $0.replacingOccurrences(of: "\"type\":\"tensor\",\"value\":0", with: "\"type\":\"tensor\",\"value\":9") }
        file.repairChecksums()
    }
    #expect(error?.code == "invalid-attribute")
}
