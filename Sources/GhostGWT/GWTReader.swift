import Foundation
import GhostIR

/// A model read from a .gwt file: its graph (tensors view the memory-mapped file) and metadata.
public struct GWTModel: Sendable {
    public let graph: Graph
    public let metadata: GWTMetadata
    public let fileBytes: Int
}

/// Reads .gwt files, applying every validation rule of docs/gwt-format.md in its order, with
/// overflow-checked arithmetic on every size and offset taken from the file.
public enum GWTReader {
    /// - Parameter verifyChecksums: false only for fuzzing, so mutated files reach the rules
    ///   behind the checksums; every other check still applies.
    public static func read(path: String, verifyChecksums: Bool = true) throws(GWTFormatError) -> GWTModel {
        let file: MappedFile
        do {
            file = try MappedFile(path: path)
        } catch {
            throw .file(error)
        }
        let sections = try SectionTable.read(file.bytes, path: path, verifyChecksums: verifyChecksums)
        let metadata: GWTMetadata = try decodeJSON(sections.metadata, path: path, label: "metadata")
        let document: GraphDocument = try decodeJSON(sections.graph, path: path, label: "graph")
        let graph = try GraphDocumentDecoder(path: path, data: sections.data.bytes, owner: file).decode(document)
        if let defect = GraphVerifier.defects(in: graph).first {
            throw .invalidGraph(file: path, defect: defect)
        }
        return GWTModel(graph: graph, metadata: metadata, fileBytes: file.bytes.count)
    }

    private static func decodeJSON<T: Decodable>(_ section: SectionTable.Section, path: String, label: String) throws(GWTFormatError) -> T {
        do {
            return try JSONDecoder.gwt.decode(T.self, from: Data(section.bytes))
        } catch let DecodingError.keyNotFound(key, context) {
            throw .invalidJSON(file: path, offset: section.offset, section: label, problem: "missing key '\(snakeCase(key.stringValue))' at \(pathText(context.codingPath))")
        } catch let DecodingError.typeMismatch(_, context) {
            throw .invalidJSON(file: path, offset: section.offset, section: label, problem: "wrong type at \(pathText(context.codingPath)): \(context.debugDescription)")
        } catch let DecodingError.dataCorrupted(context) {
            throw .invalidJSON(file: path, offset: section.offset, section: label, problem: "\(context.debugDescription) at \(pathText(context.codingPath))")
        } catch let DecodingError.valueNotFound(_, context) {
            throw .invalidJSON(file: path, offset: section.offset, section: label, problem: "a value is missing (null) at \(pathText(context.codingPath))")
        } catch {
            throw .invalidJSON(file: path, offset: section.offset, section: label, problem: "\(error)")
        }
    }

    /// Where in the JSON, in the spec's own key spelling: `.nodes[3].op_type`.
    private static func pathText(_ path: [CodingKey]) -> String {
        path.isEmpty ? "the top level" : path.map { $0.intValue.map { "[\($0)]" } ?? ".\(snakeCase($0.stringValue))" }.joined()
    }

    private static func snakeCase(_ key: String) -> String {
        key.reduce(into: "") { result, character in
            if character.isUppercase { result += "_" + character.lowercased() } else { result.append(character) }
        }
    }
}

/// The header and section table, validated (rules 1–3).
struct SectionTable {
    struct Section {
        let offset: Int
        let bytes: UnsafeRawBufferPointer
    }

    let metadata: Section
    let graph: Section
    let data: Section

    static func read(_ bytes: UnsafeRawBufferPointer, path: String, verifyChecksums: Bool = true) throws(GWTFormatError) -> SectionTable {
        let reader = LittleEndianReader(bytes: bytes)
        guard bytes.count >= GWTLayout.headerSize else { throw .tooShort(file: path, size: bytes.count) }
        guard Array(bytes[0..<8]) == GWTLayout.magic else { throw .badMagic(file: path) }
        let major = reader.read(UInt16.self, at: 8) ?? 0, minor = reader.read(UInt16.self, at: 10) ?? 0
        guard major <= GWTLayout.majorVersion, major >= 1 else {
            throw .unsupportedVersion(file: path, major: Int(major), minor: Int(minor))
        }
        let headerCRC = reader.read(UInt32.self, at: 36) ?? 0
        guard !verifyChecksums || GWTLayout.crc32(UnsafeRawBufferPointer(rebasing: bytes[0..<36])) == headerCRC else {
            throw .checksumMismatch(file: path, offset: 36, what: "the header")
        }
        let declaredLength = reader.read(UInt64.self, at: 24) ?? 0
        guard declaredLength == UInt64(bytes.count) else {
            throw .lengthMismatch(file: path, declared: declaredLength, actual: bytes.count)
        }
        let count = reader.read(UInt32.self, at: 12) ?? 0
        guard count >= 1, count <= GWTLayout.maximumSections else {
            throw .invalidSectionTable(file: path, offset: 12, problem: "section count \(count) is outside 1…\(GWTLayout.maximumSections)")
        }
        let tableOffset64 = reader.read(UInt64.self, at: 16) ?? 0
        let tableLength = Int(count) * GWTLayout.sectionEntrySize
        guard tableOffset64 >= UInt64(GWTLayout.headerSize), tableOffset64 <= UInt64(bytes.count),
              Int(tableOffset64) + tableLength <= bytes.count else {
            throw .invalidSectionTable(file: path, offset: 16, problem: "the table (\(tableLength) bytes at \(tableOffset64)) does not fit in the file")
        }
        let tableOffset = Int(tableOffset64), tableEnd = tableOffset + tableLength
        guard !verifyChecksums || GWTLayout.crc32(UnsafeRawBufferPointer(rebasing: bytes[tableOffset..<tableEnd])) == reader.read(UInt32.self, at: 32) else {
            throw .checksumMismatch(file: path, offset: 32, what: "the section table")
        }

        var found: [GWTLayout.Kind: Section] = [:]
        var ranges: [Range<Int>] = []
        for entry in 0..<Int(count) {
            let at = tableOffset + entry * GWTLayout.sectionEntrySize
            let kindCode = reader.read(UInt32.self, at: at) ?? 0
            let offset64 = reader.read(UInt64.self, at: at + 8) ?? 0
            let length64 = reader.read(UInt64.self, at: at + 16) ?? 0
            let crc = reader.read(UInt32.self, at: at + 24) ?? 0
            let (end64, overflow) = offset64.addingReportingOverflow(length64)
            guard !overflow, end64 <= UInt64(bytes.count), offset64 >= UInt64(tableEnd) else {
                throw .invalidSection(file: path, offset: at, kind: kindCode, problem: "bytes \(offset64) + \(length64) lie outside the file after the table")
            }
            let range = Int(offset64)..<Int(end64)
            guard range.lowerBound % GWTLayout.alignment == 0 else {
                throw .invalidSection(file: path, offset: at, kind: kindCode, problem: "offset \(offset64) is not a multiple of \(GWTLayout.alignment)")
            }
            guard !ranges.contains(where: { $0.overlaps(range) }) else {
                throw .invalidSection(file: path, offset: at, kind: kindCode, problem: "it overlaps another section")
            }
            ranges.append(range)
            let section = Section(offset: range.lowerBound, bytes: UnsafeRawBufferPointer(rebasing: bytes[range]))
            guard !verifyChecksums || GWTLayout.crc32(section.bytes) == crc else {
                throw .checksumMismatch(file: path, offset: range.lowerBound, what: "section \(entry) (kind \(kindCode))")
            }
            guard let kind = GWTLayout.Kind(rawValue: kindCode) else { continue }  // a later minor version's
            guard found[kind] == nil else {
                throw .invalidSection(file: path, offset: at, kind: kindCode, problem: "the \(kind.label) section appears twice")
            }
            found[kind] = section
        }
        guard let metadata = found[.metadata], let graph = found[.graph], let data = found[.tensorData] else {
            let missing = [GWTLayout.Kind.metadata, .graph, .tensorData].filter { found[$0] == nil }.map(\.label)
            throw .invalidSectionTable(file: path, offset: tableOffset, problem: "missing the \(missing.joined(separator: " and ")) section")
        }
        return SectionTable(metadata: metadata, graph: graph, data: data)
    }
}
