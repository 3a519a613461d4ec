import CKernels

/// The activations whose float32 loop is CKernels' `gk_math_f32` (ghost_math.h): erf, the
/// logistic sigmoid and the erf form of GELU, evaluated in double precision and rounded once to
/// float32 (within about half an ulp, like glibc's erff/expf, but vectorized). float64 runs keep
/// libm's functions.
extension UnaryOperator {
    var mathFunction: Int32? {
        switch self {
        case .erf: Int32(GK_MATH_ERF)
        case .sigmoid: Int32(GK_MATH_SIGMOID)
        case .gelu(tanhApproximation: false): Int32(GK_MATH_GELU)
        default: nil
        }
    }
}

extension InterpreterScalar {
    /// Whether `vectorMath` has a loop in this precision (float32 only).
    static var hasVectorMath: Bool { Self.self == Float.self }
}
