/// Mod with numpy broadcasting.
///
/// - `fmod = 1`: C's fmod, the remainder of truncating division (sign of the dividend):
///   fmod(x, 0) = fmod(±inf, y) = NaN, fmod(x, ±inf) = x. On integers, C's `%`.
/// - `fmod = 0` on integers: the remainder of floor division (sign of the divisor, Python's `%`).
///   On floats the spec forbids it before opset 28 (ONNX Runtime refuses the node: so do we); from
///   28 it is the floored remainder too: fmod(x, y), plus y when their signs differ, and a zero
///   result takes the divisor's sign (numpy's `mod`: mod(−3, inf) = inf, mod(0, −2) = −0).
/// - Integer division by zero is an error, as in ONNX Runtime. uint64 (stored as its bit pattern)
///   is divided unsigned.
enum Modulo {
    static func evaluate(_ context: NodeContext) throws(InterpreterError) -> Buffer {
        let a = try context.input(0), b = try context.input(1)
        let truncating: Bool
        switch try context.int("fmod", 0) {
        case 0: truncating = false
        case 1: truncating = true
        case let other: throw context.unsupported("fmod", String(other))
        }
        guard let shape = Broadcast.shape(a.shape, b.shape) else {
            throw context.fail("shapes \(a.shape) and \(b.shape) do not broadcast")
        }
        let count = try context.elementCount(of: shape)
        if a.isFloatingPoint, !truncating, context.opset < 28 {
            throw context.fail("fmod = 0 is only defined on integers before opset 28; floating-point Mod needs fmod = 1")
        }
        switch (a.storage, b.storage) {
        case (.float(let x), .float(let y)):
            return Buffer(shape: shape, storage: .float(truncating
                ? Broadcast.apply(x, a.shape, y, b.shape, into: shape, TruncatedRemainder<Float>.self)
                : Broadcast.apply(x, a.shape, y, b.shape, into: shape, FlooredRemainder<Float>.self)))
        case (.double(let x), .double(let y)):
            return Buffer(shape: shape, storage: .double(truncating
                ? Broadcast.apply(x, a.shape, y, b.shape, into: shape, TruncatedRemainder<Double>.self)
                : Broadcast.apply(x, a.shape, y, b.shape, into: shape, FlooredRemainder<Double>.self)))
        case (.int64(let x), .int64(let y)) where a.integerType == b.integerType:
            if count > 0, y.contains(0) { throw context.fail("integer modulo by zero") }
            let values: [Int64]
            if a.integerType == .uint64 {
                values = Broadcast.apply(x, a.shape, y, b.shape, into: shape) {
                    Int64(bitPattern: UInt64(bitPattern: $0) % UInt64(bitPattern: $1))
                }
            } else if truncating {
                // Int64.min % −1 overflows the quotient only: the remainder is 0.
                values = Broadcast.apply(x, a.shape, y, b.shape, into: shape) { $0.remainderReportingOverflow(dividingBy: $1).partialValue }
            } else {
                values = Broadcast.apply(x, a.shape, y, b.shape, into: shape) { x, y in
                    let r = x.remainderReportingOverflow(dividingBy: y).partialValue
                    // |r| < |y| and their signs differ: r + y cannot overflow.
                    return r != 0 && (r < 0) != (y < 0) ? r + y : r
                }
            }
            return Buffer(shape: shape, storage: .int64(values), integerType: a.integerType)
        default:
            throw context.fail("cannot take \(a.typeName) modulo \(b.typeName)")
        }
    }
}

private enum TruncatedRemainder<T: ElementaryScalar>: Combination {
    static func combine(_ a: T, _ b: T) -> T { T.libmFmod(a, b) }
}

private enum FlooredRemainder<T: ElementaryScalar>: Combination {
    static func combine(_ a: T, _ b: T) -> T {
        let r = T.libmFmod(a, b)
        if r == 0 { return T(signOf: b, magnitudeOf: 0) }
        return (r < 0) != (b < 0) ? r + b : r
    }
}
