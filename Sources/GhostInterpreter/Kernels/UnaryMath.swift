import Foundation
import GhostIR

/// The C library's elementary functions for Float and Double, beyond those `InterpreterScalar`
/// already has, so the math kernels stay generic and compute in the run's precision (float32 runs
/// call the `f` functions, as ONNX Runtime's float kernels do).
protocol ElementaryScalar: InterpreterScalar {
    static func libmLog(_ x: Self) -> Self
    static func libmLog1p(_ x: Self) -> Self
    static func libmSin(_ x: Self) -> Self
    static func libmCos(_ x: Self) -> Self
    static func libmTan(_ x: Self) -> Self
    static func libmAsin(_ x: Self) -> Self
    static func libmAcos(_ x: Self) -> Self
    static func libmAtan(_ x: Self) -> Self
    static func libmSinh(_ x: Self) -> Self
    static func libmCosh(_ x: Self) -> Self
    static func libmAsinh(_ x: Self) -> Self
    static func libmAcosh(_ x: Self) -> Self
    static func libmAtanh(_ x: Self) -> Self
    /// C's `fmod`: x − n·y with n = trunc(x / y), computed exactly; the sign of x.
    static func libmFmod(_ x: Self, _ y: Self) -> Self
}

extension Float: ElementaryScalar {
    static func libmLog(_ x: Float) -> Float { Foundation.log(x) }
    static func libmLog1p(_ x: Float) -> Float { Foundation.log1p(x) }
    static func libmSin(_ x: Float) -> Float { Foundation.sin(x) }
    static func libmCos(_ x: Float) -> Float { Foundation.cos(x) }
    static func libmTan(_ x: Float) -> Float { Foundation.tan(x) }
    static func libmAsin(_ x: Float) -> Float { Foundation.asin(x) }
    static func libmAcos(_ x: Float) -> Float { Foundation.acos(x) }
    static func libmAtan(_ x: Float) -> Float { Foundation.atan(x) }
    static func libmSinh(_ x: Float) -> Float { Foundation.sinh(x) }
    static func libmCosh(_ x: Float) -> Float { Foundation.cosh(x) }
    static func libmAsinh(_ x: Float) -> Float { Foundation.asinh(x) }
    static func libmAcosh(_ x: Float) -> Float { Foundation.acosh(x) }
    static func libmAtanh(_ x: Float) -> Float { Foundation.atanh(x) }
    static func libmFmod(_ x: Float, _ y: Float) -> Float { Foundation.fmod(x, y) }
}

extension Double: ElementaryScalar {
    static func libmLog(_ x: Double) -> Double { Foundation.log(x) }
    static func libmLog1p(_ x: Double) -> Double { Foundation.log1p(x) }
    static func libmSin(_ x: Double) -> Double { Foundation.sin(x) }
    static func libmCos(_ x: Double) -> Double { Foundation.cos(x) }
    static func libmTan(_ x: Double) -> Double { Foundation.tan(x) }
    static func libmAsin(_ x: Double) -> Double { Foundation.asin(x) }
    static func libmAcos(_ x: Double) -> Double { Foundation.acos(x) }
    static func libmAtan(_ x: Double) -> Double { Foundation.atan(x) }
    static func libmSinh(_ x: Double) -> Double { Foundation.sinh(x) }
    static func libmCosh(_ x: Double) -> Double { Foundation.cosh(x) }
    static func libmAsinh(_ x: Double) -> Double { Foundation.asinh(x) }
    static func libmAcosh(_ x: Double) -> Double { Foundation.acosh(x) }
    static func libmAtanh(_ x: Double) -> Double { Foundation.atanh(x) }
    static func libmFmod(_ x: Double, _ y: Double) -> Double { Foundation.fmod(x, y) }
}

/// Unary elementwise math, in the run's precision, with ONNX Runtime's handling of NaN and ±inf
/// (the formulas below produce it; the tests pin each case):
/// - Sign(NaN) = NaN, Sign(±0) = +0; Round is half to even (−0.5 → −0); Abs and Neg keep NaN.
/// - Softplus(x) = x + log1p(e^−x) for x > 0, else log1p(e^x): no overflow for large x (ONNX
///   Runtime's float kernel; its float64 fallback log(e^x + 1) overflows past 709, which a float32
///   model never meets), Softplus(−inf) = 0. Mish(x) = x·tanh(Softplus(x)) (see `mish`), so
///   Mish(−inf) = −inf·0 = NaN and Mish(+inf) = inf, as in ONNX Runtime.
/// - Softsign(x) = x / (1 + |x|), so Softsign(±inf) = NaN as in ONNX Runtime.
/// - Elu(x) = x for x ≥ 0, else α·(e^x − 1); Selu(x) = γ·x for x > 0, else (γ·α)·(e^x − 1);
///   Celu(x) = max(0, x) + min(0, α·(e^{x/α} − 1)), NaN kept; ThresholdedRelu(x) = x for x > α,
///   else 0 (NaN → 0). Attributes are float32, widened in a float64 run.
enum UnaryMath {
    case exp, log, neg, abs, reciprocal, floor, ceil, round, sign
    case sin, cos, tan, asin, acos, atan, sinh, cosh, asinh, acosh, atanh
    case softplus, softsign, mish
    case elu(alpha: Float)
    case selu(alpha: Float, gamma: Float)
    case celu(alpha: Float)
    case thresholdedRelu(alpha: Float)

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    func apply<T: ElementaryScalar>(_ v: [T]) -> [T] {
        switch self {
        case .exp: return elementwise(v) { T.exponential($0) }
        case .log: return elementwise(v) { T.libmLog($0) }
        case .neg: return elementwise(v) { -$0 }
        case .abs: return elementwise(v) { $0.magnitude }
        case .reciprocal: return elementwise(v) { 1 / $0 }
        case .floor: return elementwise(v) { $0.rounded(.down) }
        case .ceil: return elementwise(v) { $0.rounded(.up) }
        case .round: return elementwise(v) { $0.rounded(.toNearestOrEven) }
        case .sign: return elementwise(v) { $0 > 0 ? 1 : $0 < 0 ? -1 : $0.isNaN ? $0 : 0 }
        case .sin: return elementwise(v) { T.libmSin($0) }
        case .cos: return elementwise(v) { T.libmCos($0) }
        case .tan: return elementwise(v) { T.libmTan($0) }
        case .asin: return elementwise(v) { T.libmAsin($0) }
        case .acos: return elementwise(v) { T.libmAcos($0) }
        case .atan: return elementwise(v) { T.libmAtan($0) }
        case .sinh: return elementwise(v) { T.libmSinh($0) }
        case .cosh: return elementwise(v) { T.libmCosh($0) }
        case .asinh: return elementwise(v) { T.libmAsinh($0) }
        case .acosh: return elementwise(v) { T.libmAcosh($0) }
        case .atanh: return elementwise(v) { T.libmAtanh($0) }
        case .softplus: return elementwise(v) { UnaryMath.softplus($0) }
        case .softsign: return elementwise(v) { $0 / (1 + $0.magnitude) }
        case .mish: return elementwise(v) { UnaryMath.mish($0) }
        case .elu(let alpha):
            let a = T(alpha)
            return elementwise(v) { $0 >= 0 ? $0 : a * (T.exponential($0) - 1) }
        case .selu(let alpha, let gamma):
            let g = T(gamma), ga = T(gamma) * T(alpha)
            return elementwise(v) { $0 > 0 ? g * $0 : ga * (T.exponential($0) - 1) }
        case .celu(let alpha):
            let a = T(alpha)
            return elementwise(v) { x in
                if x.isNaN { return x }
                let negative = a * (T.exponential(x / a) - 1)
                return (x > 0 ? x : 0) + (negative < 0 ? negative : 0)
            }
        case .thresholdedRelu(let alpha):
            let a = T(alpha)
            return elementwise(v) { $0 > a ? $0 : 0 }
        }
    }

    /// x·tanh(Softplus(x)) as x·p / (p + 2) with p = e^x·(e^x + 2), since tanh(log(1 + n)) =
    /// ((1 + n)² − 1) / ((1 + n)² + 1): one exponential instead of three transcendental calls, within
    /// 5 float32 ulps of the exact value (the tanh form is within 4). Past x = 20, tanh(Softplus(x))
    /// is 1 in both precisions (and p would overflow from 44 on).
    @inline(__always)
    static func mish<T: ElementaryScalar>(_ x: T) -> T {
        if x > 20 { return x }
        let n = T.exponential(x), p = n * (n + 2)
        return x * (p / (p + 2))
    }

    @inline(__always)
    static func softplus<T: ElementaryScalar>(_ x: T) -> T {
        x > 0 ? x + T.libmLog1p(T.exponential(-x)) : T.libmLog1p(T.exponential(x))
    }

    /// Integer Abs, Neg and Sign (the spec's integer forms), exact and wrapped to the input's type
    /// as ONNX Runtime's two's-complement arithmetic has it (Abs and Neg of the minimum are the
    /// minimum). Unsigned values are never negative (uint64 above Int64.max is stored wrapped).
    private func integers(_ v: [Int64], _ type: ElementType, _ context: NodeContext) throws(InterpreterError) -> [Int64] {
        let unsigned = [ElementType.uint8, .uint16, .uint32, .uint64].contains(type)
        switch self {
        case .abs:
            if unsigned { return v }
            return elementwise(v) { Constants.wrap($0 < 0 ? 0 &- $0 : $0, to: type) }
        case .neg:
            guard !unsigned else { throw context.fail("Neg is not defined on \(type.onnxName)") }
            return elementwise(v) { Constants.wrap(0 &- $0, to: type) }
        case .sign:
            if type == .uint64 { return elementwise(v) { $0 == 0 ? 0 : 1 } }
            return elementwise(v) { $0 > 0 ? 1 : $0 < 0 ? -1 : 0 }
        default:
            throw context.fail("expects floating-point input, got \(type.onnxName)")
        }
    }

    func evaluate(_ context: NodeContext) throws(InterpreterError) -> Buffer {
        let x = try context.input(0)
        switch x.storage {
        case .float(let v): return Buffer(shape: x.shape, storage: .float(apply(v)))
        case .double(let v): return Buffer(shape: x.shape, storage: .double(apply(v)))
        case .int64(let v):
            return Buffer(shape: x.shape, storage: .int64(try integers(v, x.integerType, context)), integerType: x.integerType)
        case .bool: throw context.fail("expects a numeric input, got bool")
        }
    }
}
