import Foundation
import GhostIR

/// Why a .npy file could not be read or written; cases name the file and the byte offset or header
/// field at fault.
public enum NPYFormatError: Error, Equatable, Sendable {
    case unreadable(file: String, reason: String)
    /// A directory, FIFO, device or socket given as a file.
    case notARegularFile(file: String, kind: String)
    case badMagic(file: String)
    case unsupportedVersion(file: String, major: Int, minor: Int)
    case truncated(file: String, offset: Int, needed: Int)
    case invalidHeader(file: String, offset: Int, problem: String)
    case unsupportedDType(file: String, descr: String)
    case fortranOrder(file: String)
    case sizeOverflow(file: String, shape: [Int])
    case dataLengthMismatch(file: String, expected: Int, actual: Int)
    case unwritable(file: String, reason: String)

    public var code: String {
        switch self {
        case .unreadable: "file-unreadable"
        case .notARegularFile: "not-a-regular-file"
        case .badMagic: "bad-magic"
        case .unsupportedVersion: "unsupported-version"
        case .truncated: "truncated"
        case .invalidHeader: "invalid-header"
        case .unsupportedDType: "unsupported-dtype"
        case .fortranOrder: "fortran-order"
        case .sizeOverflow: "size-overflow"
        case .dataLengthMismatch: "data-length-mismatch"
        case .unwritable: "output-failed"
        }
    }
}

extension NPYFormatError: CodedError {
    public var errorDescription: String? {
        switch self {
        case .notARegularFile(let file, let kind):
            "\(file): it is \(kind), not a regular file"
        case .unreadable(let file, let reason): "\(file): cannot read the file: \(reason)"
        case .badMagic(let file): "\(file): not a .npy file (it does not start with \\x93NUMPY)"
        case .unsupportedVersion(let file, let major, let minor): "\(file): .npy format version \(major).\(minor) is not supported (1.0–3.0 are)"
        case .truncated(let file, let offset, let needed): "\(file): the file ends at byte \(offset), \(needed) more bytes were expected"
        case .invalidHeader(let file, let offset, let problem): "\(file): header at byte \(offset): \(problem)"
        case .unsupportedDType(let file, let descr):
            "\(file): dtype '\(descr)' is not supported (use <f4, <f8, <i8, <i4, |b1 or |u1; object arrays and big-endian data are refused)"
        case .fortranOrder(let file): "\(file): the array is in Fortran order; save it with np.ascontiguousarray first"
        case .sizeOverflow(let file, let shape): "\(file): shape \(shape) is larger than 64-bit sizes can describe"
        case .dataLengthMismatch(let file, let expected, let actual): "\(file): the header promises \(expected) bytes of data but \(actual) follow"
        case .unwritable(let file, let reason): "\(file): cannot write the file: \(reason)"
        }
    }
}

extension NPYFormatError {
    /// The error for a file that could not be opened or mapped.
    static func file(_ error: FileMappingError) -> NPYFormatError {
        switch error {
        case .cannotOpen(let path, let reason): .unreadable(file: path, reason: reason)
        case .notARegularFile(let path, let kind): .notARegularFile(file: path, kind: kind)
        }
    }
}
