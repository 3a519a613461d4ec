/// A minimal streaming JSON emitter for the .gwt sections: compact output, keys written in the
/// order the caller gives them (the section writers give them sorted, as the format asks), floats
/// in Swift's shortest round-trip form, non-finite floats as the strings "inf", "-inf", "nan".
///
/// Foundation's JSONEncoder builds a boxed tree of every value first; on a 300-node graph that was
/// a tenth of `fuse`'s time. This writes the bytes directly.
struct JSONWriter {
    private(set) var bytes: [UInt8] = []
    /// Whether the next element of the innermost open container needs a comma before it, and
    /// the same for the containers around it (a stack; empty at the top level).
    private var needsComma = false
    private var enclosing: [Bool] = []
    /// Set between a key and its value.
    private var afterKey = false

    init(reservingCapacity capacity: Int = 4096) {
        bytes.reserveCapacity(capacity)
    }

    // MARK: Containers

    // Bodies may throw (the streaming graph section drains to the file from inside them); a
    // body that does not throw makes these non-throwing (E is Never).

    mutating func object<E: Error>(_ body: (inout JSONWriter) throws(E) -> Void) throws(E) {
        open(0x7B)
        try body(&self)
        close(0x7D)
    }

    mutating func array<E: Error>(_ body: (inout JSONWriter) throws(E) -> Void) throws(E) {
        open(0x5B)
        try body(&self)
        close(0x5D)
    }

    /// An array with one element per item.
    mutating func array<Items: Sequence, E: Error>(_ items: Items, _ element: (inout JSONWriter, Items.Element) throws(E) -> Void) throws(E) {
        open(0x5B)
        for item in items { try element(&self, item) }
        close(0x5D)
    }

    /// The bytes written so far, handed to `sink` and then forgotten (the capacity is kept), so a
    /// large section can go to its file in pieces. Only whole values have been written whenever
    /// the caller drains between elements, and the comma state is kept, so the concatenation of
    /// the pieces is the text a single writer would have made.
    mutating func drain<E: Error>(into sink: (UnsafeRawBufferPointer) throws(E) -> Void) throws(E) {
        guard !bytes.isEmpty else { return }
        let result: Result<Void, E> = bytes.withUnsafeBytes { buffer in
            do throws(E) { try sink(buffer) } catch { return .failure(error) }
            return .success(())
        }
        try result.get()
        bytes.removeAll(keepingCapacity: true)
    }

    /// Writes `"name":`; the next value written is the key's value.
    mutating func key(_ name: String) {
        separate()
        quoted(name)
        bytes.append(0x3A)
        afterKey = true
    }

    /// `"name":"value"` in the open object.
    mutating func field(_ name: String, _ value: String) {
        key(name)
        string(value)
    }

    /// `"name":value` in the open object.
    mutating func field<Integer: BinaryInteger>(_ name: String, _ value: Integer) {
        key(name)
        integer(value)
    }

    // MARK: Values

    mutating func string(_ value: String) {
        separate()
        quoted(value)
    }

    mutating func integer<Integer: BinaryInteger>(_ value: Integer) {
        separate()
        if let value = Int64(exactly: value) {
            decimal(value)
        } else {
            bytes.append(contentsOf: String(value).utf8)
        }
    }

    mutating func float(_ value: Float) {
        if value.isNaN { return string("nan") }
        if value.isInfinite { return string(value < 0 ? "-inf" : "inf") }
        separate()
        var text = value.description
        if text.hasSuffix(".0") { text.removeLast(2) }
        bytes.append(contentsOf: text.utf8)
    }

    mutating func null() {
        separate()
        bytes.append(contentsOf: "null".utf8)
    }

    // MARK: Helpers

    private mutating func open(_ bracket: UInt8) {
        separate()
        bytes.append(bracket)
        enclosing.append(needsComma)
        needsComma = false
    }

    private mutating func close(_ bracket: UInt8) {
        needsComma = enclosing.popLast() ?? false
        bytes.append(bracket)
    }

    /// A comma before every element of a container but the first (a key's value needs none).
    private mutating func separate() {
        if afterKey {
            afterKey = false
            return
        }
        guard !enclosing.isEmpty else { return }
        if needsComma { bytes.append(0x2C) }
        needsComma = true
    }

    /// The decimal digits of `value`, as `String(value)` spells them, without making a string
    /// (a graph section writes several integers per node and tensor).
    private mutating func decimal(_ value: Int64) {
        if value < 0 { bytes.append(0x2D) }
        var magnitude = value.magnitude
        guard magnitude >= 10 else {
            bytes.append(0x30 + UInt8(magnitude))
            return
        }
        // UInt64.max has 20 digits.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var start = 20
            while magnitude > 0 {
                start -= 1
                digits[start] = 0x30 + UInt8(magnitude % 10)
                magnitude /= 10
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: digits[start..<20]))
        }
    }

    /// A JSON string literal: quote, backslash and control characters escaped; everything else,
    /// including "/" and non-ASCII text, as its UTF-8 bytes. Names almost never need escaping,
    /// so a string without such bytes is appended whole, from its contiguous UTF-8 (no
    /// per-character iteration through the String API).
    private mutating func quoted(_ value: String) {
        var value = value
        value.withUTF8 { utf8 in
            bytes.append(0x22)
            if utf8.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C }) {
                escaped(utf8)
            } else {
                bytes.append(contentsOf: utf8)
            }
            bytes.append(0x22)
        }
    }

    private mutating func escaped(_ utf8: UnsafeBufferPointer<UInt8>) {
        let digits: StaticString = "0123456789abcdef"
        for byte in utf8 {
            switch byte {
            case 0x22: bytes.append(contentsOf: [0x5C, 0x22])
            case 0x5C: bytes.append(contentsOf: [0x5C, 0x5C])
            case 0x0A: bytes.append(contentsOf: [0x5C, 0x6E])
            case 0x0D: bytes.append(contentsOf: [0x5C, 0x72])
            case 0x09: bytes.append(contentsOf: [0x5C, 0x74])
            case 0x08: bytes.append(contentsOf: [0x5C, 0x62])
            case 0x0C: bytes.append(contentsOf: [0x5C, 0x66])
            case 0x00..<0x20:
                let hex = digits.utf8Start
                bytes.append(contentsOf: [0x5C, 0x75, 0x30, 0x30, hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]])
            default: bytes.append(byte)
            }
        }
    }
}
