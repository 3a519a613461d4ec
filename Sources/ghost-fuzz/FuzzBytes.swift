/// The fuzz input read as a sequence of decisions, for the attribute-space target.
///
/// Every decision reads one byte (zero when the input has run out), and a zero byte always means
/// "keep the valid value", so the empty input is the valid graph of the first template and
/// libFuzzer's mutations move away from validity one decision at a time.
struct FuzzBytes {
    private let bytes: [UInt8]
    private var position = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    mutating func byte() -> UInt8 {
        guard position < bytes.count else { return 0 }
        defer { position += 1 }
        return bytes[position]
    }

    /// One of `count` choices (0 when the input has run out).
    mutating func choose(_ count: Int) -> Int {
        count <= 1 ? 0 : Int(byte()) % count
    }

    /// Eight bytes, little-endian, as an arbitrary Int64.
    mutating func rawInt64() -> Int64 {
        var value: UInt64 = 0
        for shift in stride(from: 0, to: 64, by: 8) { value |= UInt64(byte()) << UInt64(shift) }
        return Int64(bitPattern: value)
    }

    /// Integers that break size arithmetic: the ends of Int64 and Int32, powers of two whose
    /// products overflow, and the small values (0, ±1) that break divisions and loops.
    static let extremeIntegers: [Int64] = [
        0, 1, -1, 2, -2, 3, Int64.max, Int64.min, Int64.max - 1, Int64.min + 1, 1 << 62, -(1 << 62),
        1 << 40, 1 << 32, (1 << 32) + 1, Int64(Int32.max), Int64(Int32.min), (1 << 31) + 1, 1 << 33, -(1 << 40),
    ]

    /// Floats that break index and size computations: NaN, the infinities, the ends of the finite
    /// range, denormals, and values whose products with small sizes overflow Int.
    static let extremeFloats: [Float] = [
        .nan, .infinity, -.infinity, 0, -0.0, .greatestFiniteMagnitude, -.greatestFiniteMagnitude,
        .leastNonzeroMagnitude, 1e-30, 1e30, -1, 0.5, 1.5, 3, 2.1e9, 9.3e18, -9.3e18, 1e-7,
    ]

    /// `valid`, or (on a non-zero byte) a value near it or an extreme one.
    mutating func integer(_ valid: Int64) -> Int64 {
        switch byte() % 16 {
        case 0..<8: valid
        case 8: 0
        case 9: -1
        case 10: valid &+ 1
        case 11: valid &- 1
        case 12: 0 &- valid
        case 13: rawInt64()
        default: Self.extremeIntegers[choose(Self.extremeIntegers.count)]
        }
    }

    /// `valid`, or a value near it or an extreme one.
    mutating func float(_ valid: Float) -> Float {
        switch byte() % 12 {
        case 0..<6: valid
        case 6: valid * 2
        case 7: -valid
        case 8: Float(bitPattern: UInt32(truncatingIfNeeded: rawInt64()))
        default: Self.extremeFloats[choose(Self.extremeFloats.count)]
        }
    }

    /// A list like `valid`, possibly with mutated elements, one element more or fewer, empty,
    /// or all set to one extreme value.
    mutating func integers(_ valid: [Int64]) -> [Int64] {
        switch byte() % 12 {
        case 0..<5: return valid
        case 5: return valid.map { _ in Self.extremeIntegers[choose(Self.extremeIntegers.count)] }
        case 6: return Array(valid.dropLast())
        case 7: return valid + [integer(valid.last ?? 1)]
        case 8: return []
        default: return valid.map { integer($0) }
        }
    }

    mutating func floats(_ valid: [Float]) -> [Float] {
        switch byte() % 10 {
        case 0..<5: return valid
        case 5: return Array(valid.dropLast())
        case 6: return valid + [float(valid.last ?? 1)]
        case 7: let value = Self.extremeFloats[choose(Self.extremeFloats.count)]; return valid.map { _ in value }
        default: return valid.map { float($0) }
        }
    }

    /// `options[0]` (the valid default), another option, or a string no operator accepts.
    mutating func string(_ options: [String]) -> String {
        switch byte() % 10 {
        case 0..<6: options.first ?? ""
        case 6..<9: options[choose(options.count)]
        default: ["", "BOGUS", "nearest\0", String(repeating: "A", count: 300)][choose(4)]
        }
    }

    /// A small shape like `valid`: sizes among 0…5 and, rarely, a huge size next to a zero (no elements,
    /// but loops over the huge axis would never end).
    mutating func shape(_ valid: [Int]) -> [Int] {
        switch byte() % 16 {
        case 0..<10: return valid
        case 10: return valid.map { _ in choose(6) }
        case 11: return Array(valid.dropLast())
        case 12: return valid + [1 + choose(3)]
        case 13: return valid.count < 2 ? [0] : [0, choose(2) == 0 ? 1 << 40 : 1 << 20] + valid.dropFirst(2)
        case 14: return []
        default:
            var shape = valid
            if !shape.isEmpty { shape[choose(shape.count)] = choose(6) }
            return shape
        }
    }
}
