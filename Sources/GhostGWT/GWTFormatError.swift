import Foundation
import GhostIR

/// Why a .gwt file could not be read or written. Cases carry the file and, where the format
/// defines one, the byte offset of the field at fault (docs/gwt-format.md, "Validation").
public enum GWTFormatError: Error, Equatable, Sendable {
    case unreadable(file: String, reason: String)
    /// A directory, FIFO, device or socket given as a file.
    case notARegularFile(file: String, kind: String)
    case tooShort(file: String, size: Int)
    case badMagic(file: String)
    case unsupportedVersion(file: String, major: Int, minor: Int)
    case checksumMismatch(file: String, offset: Int, what: String)
    case lengthMismatch(file: String, declared: UInt64, actual: Int)
    case invalidSectionTable(file: String, offset: Int, problem: String)
    case invalidSection(file: String, offset: Int, kind: UInt32, problem: String)
    case invalidJSON(file: String, offset: Int, section: String, problem: String)
    case invalidTensor(file: String, tensor: String, problem: String)
    case invalidAttribute(file: String, node: String, attribute: String, problem: String)
    case invalidGraph(file: String, defect: GraphValidationError)
    case output(FileOutputError)

    /// A stable identifier of the kind of problem.
    public var code: String {
        switch self {
        case .unreadable: "file-unreadable"
        case .notARegularFile: "not-a-regular-file"
        case .tooShort: "truncated"
        case .badMagic: "bad-magic"
        case .unsupportedVersion: "unsupported-version"
        case .checksumMismatch: "checksum-mismatch"
        case .lengthMismatch: "length-mismatch"
        case .invalidSectionTable: "invalid-section-table"
        case .invalidSection: "invalid-section"
        case .invalidJSON: "invalid-json"
        case .invalidTensor: "invalid-tensor"
        case .invalidAttribute: "invalid-attribute"
        case .invalidGraph(_, let defect): defect.code
        case .output(let error): error.code == "file-changed" ? error.code : "output-failed"
        }
    }
}

extension GWTFormatError: CodedError {
    public var errorDescription: String? {
        switch self {
        case .notARegularFile(let file, let kind):
            "\(file): it is \(kind), not a regular file"
        case .unreadable(let file, let reason): "\(file): cannot read the file: \(reason)"
        case .tooShort(let file, let size): "\(file): \(size) bytes is too short for a .gwt file (the header alone is 64)"
        case .badMagic(let file): "\(file): not a .gwt file (the first 8 bytes are not the .gwt magic)"
        case .unsupportedVersion(let file, let major, let minor):
            "\(file): .gwt version \(major).\(minor) is newer than this reader (1.x); update ghost-convert"
        case .checksumMismatch(let file, let offset, let what):
            "\(file): the checksum of \(what) (at byte \(offset)) does not match; the file is corrupt"
        case .lengthMismatch(let file, let declared, let actual):
            "\(file): the header says the file has \(declared) bytes but it has \(actual); it was truncated or appended to"
        case .invalidSectionTable(let file, let offset, let problem): "\(file): section table at byte \(offset): \(problem)"
        case .invalidSection(let file, let offset, let kind, let problem): "\(file): section of kind \(kind) at byte \(offset): \(problem)"
        case .invalidJSON(let file, let offset, let section, let problem): "\(file): \(section) section at byte \(offset): \(problem)"
        case .invalidTensor(let file, let tensor, let problem): "\(file): tensor '\(tensor)': \(problem)"
        case .invalidAttribute(let file, let node, let attribute, let problem): "\(file): node '\(node)', attribute '\(attribute)': \(problem)"
        case .invalidGraph(let file, let defect): "\(file): \(defect)"
        case .output(let error): error.localizedDescription
        }
    }
}

extension GWTFormatError {
    /// The error for a file that could not be opened or mapped.
    static func file(_ error: FileMappingError) -> GWTFormatError {
        switch error {
        case .cannotOpen(let path, let reason): .unreadable(file: path, reason: reason)
        case .notARegularFile(let path, let kind): .notARegularFile(file: path, kind: kind)
        }
    }
}
