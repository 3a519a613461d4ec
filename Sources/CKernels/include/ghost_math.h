// Transcendental loops of the interpreter's float32 runs (exp, erf and what is built on them) and
// the row loops of Softmax and LayerNormalization, in C so that each is compiled for several x86
// vector widths (AVX-512, AVX2, baseline) with the best one chosen when the program loads.
//
// The float32 functions evaluate in float32 (polynomials fitted to well under float32's rounding,
// see math.c, evaluated by fused multiply-adds), branch-free so the loops vectorize at the full
// float32 width: within 0.94 ulp of the exact value (measured; glibc's expf/erff are within one ulp).
// Floating-point contraction is off (every FMA is an explicit fmaf) and every lane takes the same
// operations in the same order,
// so the bits do not depend on the CPU or the vector width. NaN in gives NaN out; ±inf follow the
// functions' limits (exp: +inf, 0; erf: ±1; sigmoid: 1, 0).
#ifndef GHOST_MATH_H
#define GHOST_MATH_H

#include <stddef.h>

enum {
    GK_MATH_EXP = 0,      // e^x
    GK_MATH_ERF = 1,      // erf(x)
    GK_MATH_SIGMOID = 2,  // 1 / (1 + e^(−x)), float32 steps after a float32 e^(−x)
    GK_MATH_GELU = 3,     // (0.5·x)·(1 + erf(x·c)), c = float32(1/√2), float32 steps
};

// dst[i] = f(src[i]) for i < count, f one of GK_MATH_*; dst may equal src.
void gk_math_f32(int function, float *dst, const float *src, ptrdiff_t count);

// The GELU of the PyTorch exporter, Div → Erf → Add → Mul → Mul, in one pass with the same float32
// steps in the same order: dst[i] = (x·(erf(x / divisor) + offset))·scale with x = src[i] (the
// exporter's constants are √2, 1 and 0.5), so the bits equal the five nodes' run one by one.
void gk_gelu_chain_f32(float *dst, const float *src, ptrdiff_t count, float divisor, float offset, float scale);

// Softmax of each of `rows` contiguous rows of `size`: m = the row's maximum, e = exp(x − m),
// y = e · (1 / Σe) in float32 (as ONNX Runtime), y = e / Σe in float64 (the sum in eight
// interleaved partial sums, lane j taking elements j, j+8, …, then added in order). float32 uses
// the e^x of the Sigmoid and SiLU loops (ghost_activation.h's gk_exp_f32: FMAs, within the same
// accuracy as the exp above), float64 libm's exp. A NaN or +inf in a row, or a
// row of −inf, makes the whole row NaN (as ONNX Runtime).
void gk_softmax_rows_f32(float *dst, const float *src, ptrdiff_t rows, ptrdiff_t size);
void gk_softmax_rows_f64(double *dst, const double *src, ptrdiff_t rows, ptrdiff_t size);

// LayerNormalization of each of `rows` contiguous rows of `size`: μ = Σx / size,
// σ² = Σ(x − μ)² / size (sums as in softmax), r = 1 / √(σ² + ε), y = (x − μ)·r·scale[i] + bias[i].
// mean[row] = μ and inverse[row] = r.
void gk_layernorm_rows_f32(float *dst, float *mean, float *inverse, const float *src, const float *scale,
                           const float *bias, ptrdiff_t rows, ptrdiff_t size, float epsilon);
void gk_layernorm_rows_f64(double *dst, double *mean, double *inverse, const double *src,
                           const double *scale, const double *bias, ptrdiff_t rows, ptrdiff_t size,
                           double epsilon);

#endif
