import Foundation
import GhostIR

/// Why an ONNX file could not be loaded. Every case names the file and, where one is at fault,
/// the tensor, node, attribute or value, so a user can find the problem.
public enum ONNXLoadError: Error, Equatable, Sendable {
    case unreadable(file: String, reason: String)
    /// A directory, FIFO, device or socket given as a file.
    case notARegularFile(file: String, kind: String)
    case emptyFile(file: String)
    /// The bytes are not a valid ModelProto encoding; `offset` is where decoding first failed.
    case malformedProtobuf(file: String, offset: Int?, detail: String)
    case missingGraph(file: String)
    case missingOpset(file: String)
    case unknownElementType(file: String, tensor: String, code: Int32)
    case invalidDimension(file: String, name: String, dimension: Int, value: Int64)
    case sizeOverflow(file: String, tensor: String, dims: [Int64])
    case rawDataSizeMismatch(file: String, tensor: String, expected: Int, actual: Int)
    case typedDataCountMismatch(file: String, tensor: String, field: String, expected: Int, actual: Int)
    case missingTensorData(file: String, tensor: String)
    case externalData(file: String, tensor: String, problem: String)
    /// `location` names no file: it is empty, ".", "..", ends in "/", or resolves to a directory,
    /// FIFO, device or socket (`what` says which, as a predicate: "names the model's directory").
    case externalDataNotAFile(file: String, tensor: String, location: String, what: String)
    case invalidAttribute(file: String, node: String, attribute: String, problem: String)
    case invalidNode(file: String, node: String, problem: String)
    case invalidGraph(file: String, defect: GraphValidationError)
    /// A graph input or output that is not a tensor (a sequence, map, optional or sparse tensor).
    case nonTensorValue(file: String, name: String)

    /// A stable identifier of the kind of problem, shared with the malformed-input corpus.
    public var code: String {
        switch self {
        case .unreadable: "file-unreadable"
        case .notARegularFile: "not-a-regular-file"
        case .emptyFile: "empty-file"
        case .malformedProtobuf: "malformed-protobuf"
        case .missingGraph: "missing-graph"
        case .missingOpset: "missing-opset"
        case .unknownElementType: "unknown-element-type"
        case .invalidDimension: "invalid-dimension"
        case .sizeOverflow: "size-overflow"
        case .rawDataSizeMismatch: "raw-data-size-mismatch"
        case .typedDataCountMismatch: "typed-data-count-mismatch"
        case .missingTensorData: "missing-tensor-data"
        case .externalData: "external-data"
        case .externalDataNotAFile: "external-data-not-a-file"
        case .invalidAttribute: "invalid-attribute"
        case .invalidNode: "invalid-node"
        case .invalidGraph(_, let defect): defect.code
        case .nonTensorValue: "non-tensor-value"
        }
    }
}

extension ONNXLoadError: CodedError {
    public var errorDescription: String? {
        switch self {
        case .notARegularFile(let file, let kind):
            "\(file): it is \(kind), not a regular file"
        case .unreadable(let file, let reason):
            "\(file): cannot read the file: \(reason)"
        case .emptyFile(let file):
            "\(file): the file is empty; an ONNX model is a serialized ModelProto"
        case .malformedProtobuf(let file, let offset, let detail):
            "\(file): not a valid ONNX protobuf\(offset.map { " (at byte \($0))" } ?? ""): \(detail)"
        case .missingGraph(let file):
            "\(file): the model has no graph (ModelProto field 7 is missing)"
        case .missingOpset(let file):
            "\(file): the model does not import the default ONNX operator set (opset_import for domain \"\")"
        case .unknownElementType(let file, let tensor, let code):
            "\(file): tensor '\(tensor)' has data_type \(code), which ghost-convert does not support"
        case .invalidDimension(let file, let name, let dimension, let value):
            "\(file): '\(name)' has dimension \(dimension) = \(value); dimensions must be ≥ 0"
        case .sizeOverflow(let file, let tensor, let dims):
            "\(file): tensor '\(tensor)' with dims \(dims) is larger than 64-bit sizes can describe"
        case .rawDataSizeMismatch(let file, let tensor, let expected, let actual):
            "\(file): tensor '\(tensor)' needs \(expected) bytes for its dims and type, but raw_data holds \(actual)"
        case .typedDataCountMismatch(let file, let tensor, let field, let expected, let actual):
            "\(file): tensor '\(tensor)' needs \(expected) values, but \(field) holds \(actual)"
        case .missingTensorData(let file, let tensor):
            "\(file): tensor '\(tensor)' has elements but no data (no raw_data, typed data or external data)"
        case .externalData(let file, let tensor, let problem):
            "\(file): external data of tensor '\(tensor)': \(problem)"
        case .externalDataNotAFile(let file, let tensor, let location, let what):
            "\(file): external data of tensor '\(tensor)': location '\(location)' \(what); it must name a file in the model's directory"
        case .invalidAttribute(let file, let node, let attribute, let problem):
            "\(file): node '\(node)', attribute '\(attribute)': \(problem)"
        case .invalidNode(let file, let node, let problem):
            "\(file): node '\(node)': \(problem)"
        case .invalidGraph(let file, let defect):
            "\(file): \(defect)"
        case .nonTensorValue(let file, let name):
            "\(file): graph input or output '\(name)' is not a tensor (a sequence, map, optional or sparse tensor); ghost-convert handles tensors only"
        }
    }
}

extension ONNXLoadError {
    /// The error for a file that could not be opened or mapped.
    static func file(_ error: FileMappingError) -> ONNXLoadError {
        switch error {
        case .cannotOpen(let path, let reason): .unreadable(file: path, reason: reason)
        case .notARegularFile(let path, let kind): .notARegularFile(file: path, kind: kind)
        }
    }
}
