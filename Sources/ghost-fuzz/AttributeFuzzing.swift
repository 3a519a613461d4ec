import Foundation
import GhostIR
import GhostInterpreter

/// The attribute-space target (GHOST_FUZZ_TARGET=attributes): the bytes pick a template, an opset
/// and a precision, then bend the template's attributes and constant inputs (pads, strides,
/// kernel sizes and dilations near Int64.max, zero or negative; empty shapes; huge sizes and
/// scales; k beyond the axis; NaN scales) and the one-node graph runs in the interpreter.
///
/// Acceptable outcomes: outputs, or a typed `InterpreterError`. A trap, a hang, or an allocation
/// beyond `Interpreter.maximumElementCount` elements (libFuzzer's -malloc_limit_mb catches the
/// last) is a bug in the kernel that ran.
enum AttributeFuzzing {
    /// The case the bytes describe, and its outcome: "ok" or the error's code.
    static func run(_ bytes: UnsafeRawBufferPointer) -> String {
        let (testCase, precision) = build(bytes)
        do {
            let interpreter = try Interpreter(graph: testCase.graph, precision: precision)
            let outputs = try interpreter.run(testCase.feedTable)
            for (name, tensor) in outputs where tensor.elementCount > Interpreter.maximumElementCount {
                // The limit is the interpreter's promise; an output past it is as bad as a trap.
                FileHandle.standardError.write(Data("\(testCase.op): output \(name) has shape \(tensor.shape), beyond the element limit\n".utf8))
                abort()
            }
            return "ok"
        } catch {
            return error.code
        }
    }

    static func build(_ bytes: UnsafeRawBufferPointer) -> (AttributeCase, Precision) {
        var reader = FuzzBytes(Array(bytes))
        let template = AttributeTemplate.all[reader.choose(AttributeTemplate.all.count)]
        let opset = template.opsets[reader.choose(template.opsets.count)]
        let precision: Precision = reader.choose(4) == 3 ? .float64 : .float32
        var testCase = AttributeCase(op: template.op, opset: opset, bytes: reader)
        template.build(&testCase)
        return (testCase, precision)
    }

    /// The case in words, for triaging a crash: op, opset, precision, inputs and attributes.
    static func describe(_ bytes: UnsafeRawBufferPointer) -> String {
        let (testCase, precision) = build(bytes)
        var lines = ["\(testCase.op) opset \(testCase.opset) \(precision.rawValue), inputs \(testCase.graph.nodes[0].inputs)"]
        for (name, tensor) in testCase.feeds { lines.append("  feed \(name): \(tensor.elementType)\(tensor.shape)") }
        for (name, tensor) in testCase.constants {
            let values: String = switch tensor.elementType {
            case .int64: "\(tensor.elements(as: Int64.self).prefix(16))"
            case .float32: "\(tensor.elements(as: Float.self).prefix(16))"
            default: "…"
            }
            lines.append("  constant \(name): \(tensor.elementType)\(tensor.shape) \(values)")
        }
        for attribute in testCase.attributes {
            let value: String = switch attribute.value {
            case .string(let bytes): "\"\(String(decoding: bytes, as: UTF8.self))\""
            case .int(let value): "\(value)"
            case .ints(let values): "\(values)"
            case .float(let value): "\(value)"
            case .floats(let values): "\(values)"
            default: attribute.value.typeName
            }
            lines.append("  \(attribute.name) = \(value)")
        }
        return lines.joined(separator: "\n")
    }
}
