// Elementwise loops. The tail a convolution applies to each output plane (bias, then an inference
// BatchNormalization's affine map, then an activation), and the activations on their own, in C
// so that each loop is compiled for several x86 vector widths (AVX-512, AVX2, baseline) and the
// best is chosen when the program loads. These loops are the interpreter's definition of these
// steps, fused or not: floating-point contraction is off and every step is the expression written
// below (same operations, same order, same comparisons), so the bits do not depend on the CPU or
// on whether a step was fused.
#ifndef GHOST_ACTIVATION_H
#define GHOST_ACTIVATION_H

#include <stdbool.h>
#include <stddef.h>

// Activations with a C loop. p0 and p1 are the operator's parameters, rounded to the precision
// of the data before use:
//   GK_ACT_NONE          x
//   GK_ACT_RELU          x < 0 ? 0 : x
//   GK_ACT_LEAKY_RELU    x >= 0 ? x : p0·x
//   GK_ACT_HARD_SIGMOID  atLeast(atMost(p0·x + p1, 1), 0)
//   GK_ACT_HARD_SWISH    x · atLeast(atMost(x / 6 + 0.5, 1), 0)
//   GK_ACT_CLIP          atMost(atLeast(x, p0), p1)
//   GK_ACT_SIGMOID       1 / (1 + exp(−x))
//   GK_ACT_SILU          x · (1 / (1 + exp(−x)))   (Mul(x, Sigmoid(x)), the same two roundings)
// where atMost(v, h) = h < v ? h : v and atLeast(v, l) = v < l ? l : v: a NaN input stays NaN
// (and Relu keeps −0), as in ONNX Runtime, so a NaN is never turned into a finite value that
// could make two different graphs look equal. exp is libm's in float64; in float32 it is
// gk_exp_f32 below (vectorizable, so the same bits at every vector width): within 2 ulp of e^x,
// +inf above ln(FLT_MAX), NaN for NaN, and (in 1 + e^x) never a different sigmoid than a
// correctly rounded exp would give at the ends (e^x < 2^−24 or overflow).
enum {
    GK_ACT_NONE = 0,
    GK_ACT_RELU = 1,
    GK_ACT_LEAKY_RELU = 2,
    GK_ACT_HARD_SIGMOID = 3,
    GK_ACT_HARD_SWISH = 4,
    GK_ACT_CLIP = 5,
    GK_ACT_SIGMOID = 6,
    GK_ACT_SILU = 7,
};

// e^x in float32: n = round(x·log2 e), r = x − n·ln 2 (ln 2 in two parts, fused multiply-adds),
// e^r by a degree-7 polynomial on |r| ≤ ln2/2 (FMAs in Estrin's order, see activation.c), times
// 2^⌊n/2⌋·2^(n−⌊n/2⌋) (two normal powers, so results that are subnormal or overflow round as the
// product does). x is clamped to [−104, 89] first (e^x is 0
// or +inf in float32 beyond it, as the product then gives); NaN in, NaN out.
float gk_exp_f32(float x);

// For i < count: v = src[i]; if has_bias, v = v + bias; if has_affine, v = v·scale + shift;
// dst[i] = activation(v). dst may equal src (in place); otherwise they must not overlap. With
// neither bias nor affine this is the activation alone.
void gk_epilogue_f32(float *dst, const float *src, ptrdiff_t count, bool has_bias, float bias,
                     bool has_affine, float scale, float shift, int activation, double p0,
                     double p1);
void gk_epilogue_f64(double *dst, const double *src, ptrdiff_t count, bool has_bias, double bias,
                     bool has_affine, double scale, double shift, int activation, double p0,
                     double p1);

// Binary arithmetic over a run of count elements: out[i] = a[i·a_step] OP b[i·b_step], where
// each step is 0 (one value broadcast along the run) or 1.
enum { GK_BIN_ADD = 0, GK_BIN_SUB = 1, GK_BIN_MUL = 2, GK_BIN_DIV = 3 };
void gk_binary_f32(int op, float *out, const float *a, ptrdiff_t a_step, const float *b,
                   ptrdiff_t b_step, ptrdiff_t count);
void gk_binary_f64(int op, double *out, const double *a, ptrdiff_t a_step, const double *b,
                   ptrdiff_t b_step, ptrdiff_t count);

#endif
