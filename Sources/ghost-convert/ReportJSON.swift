import Foundation
import GhostIR

/// The JSON every machine-readable output shares (`fuse --report`, `verify --report`,
/// `inspect --json`): pretty-printed, sorted keys, slashes unescaped, and NaN/±inf spelled
/// "nan"/"inf"/"-inf" so that a divergent model's figures can always be written.
enum ReportJSON {
    static func encode<T: Encodable>(_ value: T, for destination: String) throws(ReportError) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        do {
            return [UInt8](try encoder.encode(value))
        } catch let error as EncodingError {
            throw .cannotEncode(destination: destination, reason: ReportError.sentence(error))
        } catch {
            throw .cannotEncode(destination: destination, reason: error.localizedDescription)
        }
    }

    /// Encodes `value` into `file` (created earlier, so a bad path fails before other outputs
    /// are written) and moves it into place.
    static func write<T: Encodable>(_ value: T, into file: PendingFile) throws(ReportError) {
        let bytes = try encode(value, for: file.destination)
        do {
            try file.write(bytes)
            try file.commit()
        } catch {
            throw .output(error)
        }
    }

    static func write<T: Encodable>(_ value: T, to path: String) throws(ReportError) {
        let file: PendingFile
        do {
            file = try PendingFile(destination: path)
        } catch {
            throw .output(error)
        }
        try write(value, into: file)
    }
}

/// Why a report could not be written.
enum ReportError: CodedError, Equatable {
    /// A value could not be represented in JSON: our bug, not the input's (exit 1).
    case cannotEncode(destination: String, reason: String)
    /// The report file could not be created, written or moved into place.
    case output(FileOutputError)

    var code: String {
        switch self {
        case .cannotEncode: "report-encoding-failed"
        case .output(let error): error.code
        }
    }

    var errorDescription: String? {
        switch self {
        case .cannotEncode(let destination, let reason): "\(destination): the report could not be encoded as JSON: \(reason)"
        case .output(let error): error.localizedDescription
        }
    }

    /// What went wrong in an EncodingError, in words rather than the enum's dump.
    static func sentence(_ error: EncodingError) -> String {
        switch error {
        case .invalidValue(let value, let context):
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            return "the value \(value) at '\(path.isEmpty ? "(top level)" : path)' has no JSON form (\(context.debugDescription))"
        @unknown default:
            return error.localizedDescription
        }
    }
}
