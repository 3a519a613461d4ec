import CKernels
import Foundation

/// The floating-point types the interpreter computes in, with their BLAS and libm entry points.
protocol InterpreterScalar: BinaryFloatingPoint, Sendable {
    static func gemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Self,
        a: UnsafePointer<Self>, lda: Int, b: UnsafePointer<Self>, ldb: Int,
        beta: Self, c: UnsafeMutablePointer<Self>, ldc: Int)
    static func exponential(_ x: Self) -> Self
    static func errorFunction(_ x: Self) -> Self
    static func hyperbolicTangent(_ x: Self) -> Self
    static func power(_ x: Self, _ y: Self) -> Self
    static func wrap(_ values: [Self]) -> Buffer.Storage
    /// The depthwise convolution's inner loops (CKernels, vectorized per CPU).
    static func nineTaps(_ destination: UnsafeMutablePointer<Self>, _ rows: (UnsafePointer<Self>, UnsafePointer<Self>, UnsafePointer<Self>),
                         _ w: UnsafePointer<Self>, _ count: Int, stride: Int)
    static func rowTaps(_ destination: UnsafeMutablePointer<Self>, _ row: UnsafePointer<Self>, _ w: UnsafePointer<Self>,
                        _ count: Int, taps: Int, stride: Int)
    static func taps5x5(_ destination: UnsafeMutablePointer<Self>, _ first: UnsafePointer<Self>, rowStride: Int,
                        _ w: UnsafePointer<Self>, _ count: Int, stride: Int)
    static func taps7x7(_ destination: UnsafeMutablePointer<Self>, _ first: UnsafePointer<Self>, rowStride: Int,
                        _ w: UnsafePointer<Self>, _ count: Int, stride: Int)
    /// destination[i] = f(source[i]) by CKernels' vectorized `gk_math_f32` (a `GK_MATH_*` code),
    /// returning false where this precision has no such loop (float64 keeps libm's functions).
    static func vectorMath(_ function: Int32, _ destination: UnsafeMutablePointer<Self>, _ source: UnsafePointer<Self>, _ count: Int) -> Bool
    /// Softmax and LayerNormalization over contiguous rows (CKernels' ghost_math.h).
    static func softmaxRows(_ destination: UnsafeMutablePointer<Self>, _ source: UnsafePointer<Self>, rows: Int, size: Int)
    static func layerNormRows(_ destination: UnsafeMutablePointer<Self>, mean: UnsafeMutablePointer<Self>, inverse: UnsafeMutablePointer<Self>,
                              _ source: UnsafePointer<Self>, scale: UnsafePointer<Self>, bias: UnsafePointer<Self>,
                              rows: Int, size: Int, epsilon: Self)
    /// destination[i] = activation((source[i] + bias)·scale + shift), each step optional
    /// (CKernels' `gk_epilogue_*`); destination may be source.
    static func epilogue(_ destination: UnsafeMutablePointer<Self>, _ source: UnsafePointer<Self>, _ count: Int, bias: Self?,
                         affine: (scale: Self, shift: Self)?, _ activation: ActivationKernel)
    /// out[i] = a[i·aStep] op b[i·bStep], steps 0 or 1 (CKernels' `gk_binary_*`).
    static func binary(_ operation: Int32, _ out: UnsafeMutablePointer<Self>, _ a: UnsafePointer<Self>, aStep: Int,
                       _ b: UnsafePointer<Self>, bStep: Int, _ count: Int)
    /// CKernels' packed GEMM in this precision (ghost_gemm.h): A [m × k] into the packed layout
    /// (`gk_gemm_pack_a*`), and C = packed A · B (`gk_gemm_packed*`, beta = 0).
    static func packA(_ a: UnsafePointer<Self>, lda: Int, m: Int, k: Int, into packed: UnsafeMutablePointer<Self>)
    static func packedProduct(_ packed: UnsafePointer<Self>, m: Int, k: Int, _ b: UnsafePointer<Self>, ldb: Int, n: Int,
                              into c: UnsafeMutablePointer<Self>, ldc: Int)
}

extension Float: InterpreterScalar {
    static func gemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        gk_sgemm(transA, transB, Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
    static func exponential(_ x: Float) -> Float { Foundation.exp(x) }
    static func errorFunction(_ x: Float) -> Float { Foundation.erf(x) }
    static func hyperbolicTangent(_ x: Float) -> Float { Foundation.tanh(x) }
    static func power(_ x: Float, _ y: Float) -> Float { Foundation.pow(x, y) }
    static func wrap(_ values: [Float]) -> Buffer.Storage { .float(values) }
    static func nineTaps(_ destination: UnsafeMutablePointer<Float>, _ rows: (UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>),
                         _ w: UnsafePointer<Float>, _ count: Int, stride: Int) {
        gk_nine_taps_f32(destination, rows.0, rows.1, rows.2, w, count, stride)
    }
    static func rowTaps(_ destination: UnsafeMutablePointer<Float>, _ row: UnsafePointer<Float>, _ w: UnsafePointer<Float>,
                        _ count: Int, taps: Int, stride: Int) {
        gk_row_taps_f32(destination, row, w, count, taps, stride)
    }
    static func taps5x5(_ destination: UnsafeMutablePointer<Float>, _ first: UnsafePointer<Float>, rowStride: Int,
                        _ w: UnsafePointer<Float>, _ count: Int, stride: Int) {
        gk_taps5x5_f32(destination, first, rowStride, w, count, stride)
    }
    static func taps7x7(_ destination: UnsafeMutablePointer<Float>, _ first: UnsafePointer<Float>, rowStride: Int,
                        _ w: UnsafePointer<Float>, _ count: Int, stride: Int) {
        gk_taps7x7_f32(destination, first, rowStride, w, count, stride)
    }
    static func vectorMath(_ function: Int32, _ destination: UnsafeMutablePointer<Float>, _ source: UnsafePointer<Float>, _ count: Int) -> Bool {
        gk_math_f32(function, destination, source, count)
        return true
    }
    static func softmaxRows(_ destination: UnsafeMutablePointer<Float>, _ source: UnsafePointer<Float>, rows: Int, size: Int) {
        gk_softmax_rows_f32(destination, source, rows, size)
    }
    static func layerNormRows(_ destination: UnsafeMutablePointer<Float>, mean: UnsafeMutablePointer<Float>, inverse: UnsafeMutablePointer<Float>,
                              _ source: UnsafePointer<Float>, scale: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                              rows: Int, size: Int, epsilon: Float) {
        gk_layernorm_rows_f32(destination, mean, inverse, source, scale, bias, rows, size, epsilon)
    }
    static func epilogue(_ destination: UnsafeMutablePointer<Float>, _ source: UnsafePointer<Float>, _ count: Int, bias: Float?,
                         affine: (scale: Float, shift: Float)?, _ activation: ActivationKernel) {
        gk_epilogue_f32(destination, source, count, bias != nil, bias ?? 0, affine != nil, affine?.scale ?? 1, affine?.shift ?? 0,
                        activation.code, activation.p0, activation.p1)
    }
    static func binary(_ operation: Int32, _ out: UnsafeMutablePointer<Float>, _ a: UnsafePointer<Float>, aStep: Int,
                       _ b: UnsafePointer<Float>, bStep: Int, _ count: Int) {
        gk_binary_f32(operation, out, a, aStep, b, bStep, count)
    }
    static func packA(_ a: UnsafePointer<Float>, lda: Int, m: Int, k: Int, into packed: UnsafeMutablePointer<Float>) {
        gk_gemm_pack_a(a, Int32(lda), Int32(m), Int32(k), packed)
    }
    static func packedProduct(_ packed: UnsafePointer<Float>, m: Int, k: Int, _ b: UnsafePointer<Float>, ldb: Int, n: Int,
                              into c: UnsafeMutablePointer<Float>, ldc: Int) {
        gk_gemm_packed(packed, Int32(m), Int32(k), b, Int32(ldb), Int32(n), c, Int32(ldc))
    }
}

extension Double: InterpreterScalar {
    static func gemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Double,
        a: UnsafePointer<Double>, lda: Int, b: UnsafePointer<Double>, ldb: Int,
        beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int
    ) {
        gk_dgemm(transA, transB, Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
    static func exponential(_ x: Double) -> Double { Foundation.exp(x) }
    static func errorFunction(_ x: Double) -> Double { Foundation.erf(x) }
    static func hyperbolicTangent(_ x: Double) -> Double { Foundation.tanh(x) }
    static func power(_ x: Double, _ y: Double) -> Double { Foundation.pow(x, y) }
    static func wrap(_ values: [Double]) -> Buffer.Storage { .double(values) }
    static func nineTaps(_ destination: UnsafeMutablePointer<Double>, _ rows: (UnsafePointer<Double>, UnsafePointer<Double>, UnsafePointer<Double>),
                         _ w: UnsafePointer<Double>, _ count: Int, stride: Int) {
        gk_nine_taps_f64(destination, rows.0, rows.1, rows.2, w, count, stride)
    }
    static func rowTaps(_ destination: UnsafeMutablePointer<Double>, _ row: UnsafePointer<Double>, _ w: UnsafePointer<Double>,
                        _ count: Int, taps: Int, stride: Int) {
        gk_row_taps_f64(destination, row, w, count, taps, stride)
    }
    static func taps5x5(_ destination: UnsafeMutablePointer<Double>, _ first: UnsafePointer<Double>, rowStride: Int,
                        _ w: UnsafePointer<Double>, _ count: Int, stride: Int) {
        gk_taps5x5_f64(destination, first, rowStride, w, count, stride)
    }
    static func taps7x7(_ destination: UnsafeMutablePointer<Double>, _ first: UnsafePointer<Double>, rowStride: Int,
                        _ w: UnsafePointer<Double>, _ count: Int, stride: Int) {
        gk_taps7x7_f64(destination, first, rowStride, w, count, stride)
    }
    static func vectorMath(_ function: Int32, _ destination: UnsafeMutablePointer<Double>, _ source: UnsafePointer<Double>, _ count: Int) -> Bool {
        false
    }
    static func softmaxRows(_ destination: UnsafeMutablePointer<Double>, _ source: UnsafePointer<Double>, rows: Int, size: Int) {
        gk_softmax_rows_f64(destination, source, rows, size)
    }
    static func layerNormRows(_ destination: UnsafeMutablePointer<Double>, mean: UnsafeMutablePointer<Double>, inverse: UnsafeMutablePointer<Double>,
                              _ source: UnsafePointer<Double>, scale: UnsafePointer<Double>, bias: UnsafePointer<Double>,
                              rows: Int, size: Int, epsilon: Double) {
        gk_layernorm_rows_f64(destination, mean, inverse, source, scale, bias, rows, size, epsilon)
    }
    static func epilogue(_ destination: UnsafeMutablePointer<Double>, _ source: UnsafePointer<Double>, _ count: Int, bias: Double?,
                         affine: (scale: Double, shift: Double)?, _ activation: ActivationKernel) {
        gk_epilogue_f64(destination, source, count, bias != nil, bias ?? 0, affine != nil, affine?.scale ?? 1, affine?.shift ?? 0,
                        activation.code, activation.p0, activation.p1)
    }
    static func binary(_ operation: Int32, _ out: UnsafeMutablePointer<Double>, _ a: UnsafePointer<Double>, aStep: Int,
                       _ b: UnsafePointer<Double>, bStep: Int, _ count: Int) {
        gk_binary_f64(operation, out, a, aStep, b, bStep, count)
    }
    static func packA(_ a: UnsafePointer<Double>, lda: Int, m: Int, k: Int, into packed: UnsafeMutablePointer<Double>) {
        gk_gemm_pack_a_f64(a, Int32(lda), Int32(m), Int32(k), packed)
    }
    static func packedProduct(_ packed: UnsafePointer<Double>, m: Int, k: Int, _ b: UnsafePointer<Double>, ldb: Int, n: Int,
                              into c: UnsafeMutablePointer<Double>, ldc: Int) {
        gk_gemm_packed_f64(packed, Int32(m), Int32(k), b, Int32(ldb), Int32(n), c, Int32(ldc))
    }
}

