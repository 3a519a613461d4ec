/// The header dictionary of a .npy file. Only what NumPy writes is accepted: a Python dict
/// literal with exactly the keys 'descr' (a string), 'fortran_order' (True/False) and 'shape' (a
/// tuple of non-negative ints), in any order, with optional trailing commas and spaces; the
/// header may end with spaces and a newline. Anything else — another key, a repeated key, a list
/// or structured descr (record arrays), an expression — is refused with the byte offset at fault.
struct NPYHeader: Equatable {
    var descr: String
    var fortranOrder: Bool
    var shape: [Int]

    /// Parses `bytes` (the header text), which start at byte `offset` of the file `file`.
    static func parse(_ bytes: ArraySlice<UInt8>, file: String, offset: Int) throws(NPYFormatError) -> NPYHeader {
        var parser = Parser(bytes: Array(bytes), file: file, base: offset)
        return try parser.header()
    }

    /// A recursive-descent reader of the few Python literals a header holds. Offsets in errors
    /// are file offsets.
    private struct Parser {
        let bytes: [UInt8]
        let file: String
        let base: Int
        var position = 0

        init(bytes: [UInt8], file: String, base: Int) {
            self.bytes = bytes
            self.file = file
            self.base = base
        }

        func fail(_ problem: String, at index: Int? = nil) -> NPYFormatError {
            .invalidHeader(file: file, offset: base + (index ?? position), problem: problem)
        }

        var current: UInt8? { position < bytes.count ? bytes[position] : nil }

        mutating func skipSpace() {
            while let byte = current, byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D { position += 1 }
        }

        mutating func expect(_ character: Character, _ what: String) throws(NPYFormatError) {
            skipSpace()
            guard let ascii = character.asciiValue, current == ascii else { throw fail("expected \(what)") }
            position += 1
        }

        /// Consumes `character` if it comes next (after spaces).
        mutating func take(_ character: Character) -> Bool {
            skipSpace()
            guard let ascii = character.asciiValue, current == ascii else { return false }
            position += 1
            return true
        }

        mutating func header() throws(NPYFormatError) -> NPYHeader {
            try expect("{", "a Python dict literal starting with '{'")
            var descr: String?, order: Bool?, shape: [Int]?
            while !take("}") {
                let keyStart = position
                let key = try string()
                try expect(":", "':' after the key '\(key)'")
                skipSpace()
                switch key {
                case "descr" where descr == nil:
                    guard current == 0x27 || current == 0x22 else {
                        throw fail("'descr' is not a string (structured and record dtypes are not supported)")
                    }
                    descr = try string()
                case "fortran_order" where order == nil:
                    order = try boolean()
                case "shape" where shape == nil:
                    shape = try tuple()
                case "descr", "fortran_order", "shape":
                    throw fail("the key '\(key)' appears twice", at: keyStart)
                default:
                    throw fail("unexpected key '\(key)' (a .npy header holds only descr, fortran_order and shape)", at: keyStart)
                }
                if take("}") { break }
                try expect(",", "',' or '}' after the value of '\(key)'")
            }
            skipSpace()
            guard position == bytes.count else { throw fail("text follows the header's closing '}'") }
            guard let descr else { throw fail("'descr' is missing", at: 0) }
            guard let order else { throw fail("'fortran_order' is missing", at: 0) }
            guard let shape else { throw fail("'shape' is missing", at: 0) }
            return NPYHeader(descr: descr, fortranOrder: order, shape: shape)
        }

        /// A quoted string without escapes (NumPy never writes any in a header).
        mutating func string() throws(NPYFormatError) -> String {
            skipSpace()
            guard let quote = current, quote == 0x27 || quote == 0x22 else { throw fail("expected a quoted string") }
            let start = position
            position += 1
            while let byte = current, byte != quote {
                guard byte != 0x5C else { throw fail("escape sequences are not supported in header strings") }
                position += 1
            }
            guard current == quote else { throw fail("the string starting here is not closed", at: start) }
            position += 1
            guard let text = String(validating: bytes[(start + 1)..<(position - 1)], as: UTF8.self) else {
                throw fail("the string is not valid text", at: start)
            }
            return text
        }

        mutating func boolean() throws(NPYFormatError) -> Bool {
            for (word, value) in [("True", true), ("False", false)] {
                let ascii = Array(word.utf8)
                if bytes.count - position >= ascii.count, Array(bytes[position..<(position + ascii.count)]) == ascii {
                    position += ascii.count
                    return value
                }
            }
            throw fail("'fortran_order' is not True or False")
        }

        /// `()`, `(n,)` or `(n, m, …)` with an optional trailing comma.
        mutating func tuple() throws(NPYFormatError) -> [Int] {
            guard current == 0x28 else { throw fail("'shape' is not a tuple") }
            position += 1
            var sizes: [Int] = []
            while !take(")") {
                sizes.append(try integer())
                skipSpace()
                let close = position
                if take(")") {
                    // Python reads (n) as n, not a tuple; NumPy writes (n,).
                    guard sizes.count != 1 else { throw fail("'shape' (n) is not a tuple; NumPy writes (n,)", at: close) }
                    break
                }
                try expect(",", "',' or ')' in 'shape'")
            }
            return sizes
        }

        /// A non-negative decimal integer (Python 2 headers may end it with L).
        mutating func integer() throws(NPYFormatError) -> Int {
            skipSpace()
            let start = position
            var value = 0
            while let byte = current, byte >= 0x30, byte <= 0x39 {
                let (scaled, overflow1) = value.multipliedReportingOverflow(by: 10)
                let (sum, overflow2) = scaled.addingReportingOverflow(Int(byte - 0x30))
                guard !overflow1, !overflow2 else { throw fail("a shape entry does not fit in 64 bits", at: start) }
                value = sum
                position += 1
            }
            guard position > start else { throw fail("a shape entry is not a non-negative integer") }
            if current == 0x4C { position += 1 }
            return value
        }
    }
}
