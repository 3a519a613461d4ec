import Foundation

/// The header dictionary of a .npy file. Only what NumPy writes is accepted: a dict with the keys
/// 'descr' (a string), 'fortran_order' (True/False) and 'shape' (a tuple of non-negative ints).
struct NPYHeader {
    var descr: String
    var fortranOrder: Bool
    var shape: [Int]

    static func parse(_ text: String, file: String, offset: Int) throws(NPYFormatError) -> NPYHeader {
        func fail(_ problem: String) -> NPYFormatError { .invalidHeader(file: file, offset: offset, problem: problem) }
        let body = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard body.hasPrefix("{"), body.hasSuffix("}") else { throw fail("it is not a Python dict literal") }
        guard let descr = value(of: "descr", in: body) else { throw fail("'descr' is missing") }
        guard let order = value(of: "fortran_order", in: body) else { throw fail("'fortran_order' is missing") }
        guard let shapeText = value(of: "shape", in: body) else { throw fail("'shape' is missing") }
        let quote: Set<Character> = ["'", "\""]
        guard let first = descr.first, quote.contains(first), descr.last == first, descr.count >= 2 else {
            throw fail("'descr' is \(descr), not a string (object or structured dtypes are not supported)")
        }
        guard order == "True" || order == "False" else { throw fail("'fortran_order' is \(order), not True or False") }
        guard shapeText.hasPrefix("("), shapeText.hasSuffix(")") else { throw fail("'shape' is \(shapeText), not a tuple") }
        var shape: [Int] = []
        for part in shapeText.dropFirst().dropLast().split(separator: ",") {
            let item = part.trimmingCharacters(in: .whitespaces)
            if item.isEmpty { continue }
            guard let size = Int(item.hasSuffix("L") ? String(item.dropLast()) : item), size >= 0 else {
                throw fail("shape entry '\(item)' is not a non-negative integer")
            }
            shape.append(size)
        }
        return NPYHeader(descr: String(descr.dropFirst().dropLast()), fortranOrder: order == "True", shape: shape)
    }

    /// The raw text of `key`'s value: up to the next top-level comma or the closing brace.
    private static func value(of key: String, in body: String) -> String? {
        for quote in ["'", "\""] {
            guard let range = body.range(of: "\(quote)\(key)\(quote)") else { continue }
            var rest = body[range.upperBound...].drop { $0 == " " }
            guard rest.first == ":" else { return nil }
            rest = rest.dropFirst().drop { $0 == " " }
            var depth = 0
            var end = rest.startIndex
            var inString: Character?
            while end < rest.endIndex {
                let character = rest[end]
                if let open = inString {
                    if character == open { inString = nil }
                } else if character == "'" || character == "\"" {
                    inString = character
                } else if character == "(" {
                    depth += 1
                } else if character == ")" {
                    depth -= 1
                } else if (character == "," && depth == 0) || (character == "}" && depth == 0) {
                    break
                }
                end = rest.index(after: end)
            }
            return rest[rest.startIndex..<end].trimmingCharacters(in: .whitespaces)
        }
        return nil
    }
}
