import CONNXProto
import CProtobufC

/// Finds where, and why, bytes fail to decode as a ModelProto. protobuf-c only says "failed";
/// this walks the protobuf wire format with the same descriptors protobuf-c uses and reports the
/// byte offset of the first field that is truncated, overlong or of the wrong wire type, naming
/// the message and field, so a user can tell a truncated download from a file of another kind.
enum WireFormatDiagnosis {
    struct Problem: Equatable {
        let offset: Int
        let detail: String
    }

    static func firstProblem(in bytes: UnsafeRawBufferPointer) -> Problem? {
        withUnsafePointer(to: onnx__model_proto__descriptor) { descriptor in
            var scanner = Scanner(bytes: bytes)
            return scanner.scan(from: 0, to: bytes.count, message: descriptor, depth: 0)
        }
    }

    private struct Scanner {
        let bytes: UnsafeRawBufferPointer

        mutating func scan(from start: Int, to end: Int, message: UnsafePointer<ProtobufCMessageDescriptor>, depth: Int) -> Problem? {
            let messageName = String(cString: message.pointee.name)
            guard depth < 64 else { return Problem(offset: start, detail: "messages nested more than 64 deep") }
            var position = start
            while position < end {
                let fieldStart = position
                guard let key = readVarint(&position, end: end) else {
                    return Problem(offset: fieldStart, detail: "truncated or overlong field key in \(messageName)")
                }
                let number = key >> 3
                let wireType = Int(key & 7)
                guard number >= 1, number <= 536_870_911 else {
                    return Problem(offset: fieldStart, detail: "invalid field number \(number) in \(messageName)")
                }
                let field = protobuf_c_message_descriptor_get_field(message, UInt32(number))
                let fieldName = field.map { "\(messageName).\(String(cString: $0.pointee.name)) (field \(number))" }
                    ?? "unknown field \(number) of \(messageName)"
                var payloadStart = position
                switch wireType {
                case 0:
                    guard readVarint(&position, end: end) != nil else {
                        return Problem(offset: payloadStart, detail: "truncated or overlong varint in \(fieldName)")
                    }
                case 1, 5:
                    let size = wireType == 1 ? 8 : 4
                    guard end - position >= size else {
                        return Problem(offset: payloadStart, detail: "\(fieldName) needs \(size) bytes but the message ends after \(end - position)")
                    }
                    position += size
                case 2:
                    guard let length = readVarint(&position, end: end) else {
                        return Problem(offset: payloadStart, detail: "truncated or overlong length of \(fieldName)")
                    }
                    payloadStart = position
                    guard length <= UInt64(end - position) else {
                        return Problem(offset: fieldStart, detail: "\(fieldName) claims \(length) bytes but only \(end - position) remain in \(messageName)")
                    }
                    position += Int(length)
                default:
                    return Problem(offset: fieldStart, detail: "wire type \(wireType) in \(fieldName) is not used by ONNX (groups or invalid)")
                }
                guard let field else { continue }  // unknown fields are skipped, as the parser does
                if let problem = checkWireType(field.pointee, wireType: wireType, name: fieldName, at: fieldStart) {
                    return problem
                }
                if wireType == 2, field.pointee.type == PROTOBUF_C_TYPE_MESSAGE {
                    let nested = field.pointee.descriptor.assumingMemoryBound(to: ProtobufCMessageDescriptor.self)
                    if let problem = scan(from: payloadStart, to: position, message: nested, depth: depth + 1) {
                        return problem
                    }
                }
            }
            return nil
        }

        /// The wire type a field of this type must have; repeated scalars may also be packed (2).
        private func checkWireType(_ field: ProtobufCFieldDescriptor, wireType: Int, name: String, at offset: Int) -> Problem? {
            let expected: Int
            switch field.type {
            case PROTOBUF_C_TYPE_STRING, PROTOBUF_C_TYPE_BYTES, PROTOBUF_C_TYPE_MESSAGE: expected = 2
            case PROTOBUF_C_TYPE_FLOAT, PROTOBUF_C_TYPE_FIXED32, PROTOBUF_C_TYPE_SFIXED32: expected = 5
            case PROTOBUF_C_TYPE_DOUBLE, PROTOBUF_C_TYPE_FIXED64, PROTOBUF_C_TYPE_SFIXED64: expected = 1
            default: expected = 0
            }
            if wireType == expected { return nil }
            if wireType == 2, field.label == PROTOBUF_C_LABEL_REPEATED { return nil }  // packed
            return Problem(offset: offset, detail: "\(name) has wire type \(wireType), expected \(expected)")
        }

        private func readVarint(_ position: inout Int, end: Int) -> UInt64? {
            var value: UInt64 = 0
            for index in 0..<10 {
                guard position < end else { return nil }
                let byte = bytes[position]
                position += 1
                value |= UInt64(byte & 0x7F) << (7 * UInt64(index))
                if byte & 0x80 == 0 { return value }
            }
            return nil
        }
    }
}
