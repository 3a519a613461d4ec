// See ghost_math.h. Every float32 function here is evaluated in float32 with branch-free
// selects, so each loop runs 8 lanes on AVX2 and 16 on AVX-512. The polynomials and the
// Cody–Waite steps are explicit fused multiply-adds (fmaf, exactly rounded wherever it runs: one
// instruction in the FMA clones, glibc's software fmaf in the baseline one, so the same bits on
// every clone): one rounding a step instead of two made these loops, latency-bound on their
// chains, faster (the GELU chain 2.55 → 1.95 ns an element) and more accurate (the figures below;
// before, with separate multiplies and adds: exp at most 1.20 ulp, erf 1.18 ulp).
//
// exp: e^x = 2^n · e^r with n = round(x·log₂e) and r = x − n·ln2 (Cody–Waite: ln2 split into a
// 9-bit head, so n·ln2_hi is exact for |n| ≤ 2^15, and a tail), |r| ≤ ln2/2; e^r by its Taylor
// polynomial to r⁷ (remainder under 5.2e-9 relative, 0.04 ulp). 2^n is applied as two factors
// 2^⌊n/2⌋ · 2^(n−⌊n/2⌋), each a normal float32, so results in the subnormal range round once, in
// the last product. Measured against double-precision exp on every 61st float32 in [−104, 89]
// (70 million, as for erf): at most 0.92 ulp.
//
// erf: below 1, x + x·(P(x²) − 1) (one FMA) with P of degree 7 (a fit of erf(x)/x on x² ∈ [0, 1], relative error
// 1e-9 after rounding the coefficients); from 1 to 4, 1 − e^(−x²)·Q(x − 2.5) with Q of degree 8
// (a fit of erfcx(x) = e^{x²}·erfc(x) on [1, 4] weighted by e^(−x²), so that the error it leaves
// on erf is under 2.4e-9 absolute). The float32 rounding of x² moves e^(−x²) by at most 16·2⁻²⁴
// relative, on an erfc below 0.16. Beyond 4, erf rounds to ±1 in float32 (erfc(4) ≈ 1.5e-8,
// under half an ulp of 1), which the same formula gives with |x| held at 4. Measured against
// double-precision erf on every 61st float32 (70 million): at most 0.94 ulp; ±0, ±inf and NaN
// kept (Tests/GhostInterpreterTests/VectorMathTests.swift checks millions).
// Coefficients: fitted in double with numpy (Lawson's iteration toward the minimax fit on 3000
// Chebyshev points), rounded to float32 one at a time from the constant term up, each rounding
// followed by a refit of the terms above it.
#include "ghost_math.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#pragma clang fp contract(off)

#include "clones.h"
#include "exp_fma.h"

static inline __attribute__((always_inline)) float power_of_two(int32_t n) {
    const int32_t bits = (n + 127) << 23;
    float value;
    memcpy(&value, &bits, sizeof value);
    return value;
}

// e^c for c in [−104, 89] (not NaN).
static inline __attribute__((always_inline)) float exp_bounded(float c) {
    const float shifter = 12582912.0f;  // 1.5·2²³: adding it rounds |v| < 2²² to an integer
    const float n = (c * 1.44269504f + shifter) - shifter;
    const float r = fmaf(n, 2.12194442e-4f, fmaf(n, -0.693359375f, c));
    float p = 1.98412698e-4f;  // 1/5040
    p = fmaf(p, r, 1.38888889e-3f);  // 1/720
    p = fmaf(p, r, 8.33333377e-3f);  // 1/120
    p = fmaf(p, r, 4.16666679e-2f);  // 1/24
    p = fmaf(p, r, 1.66666672e-1f);  // 1/6
    p = fmaf(p, r, 0.5f);
    p = fmaf(p, r, 1.0f);
    p = fmaf(p, r, 1.0f);
    const int32_t k = (int32_t)n, half = k >> 1;
    return (p * power_of_two(half)) * power_of_two(k - half);
}

// e^x: clamped to [−104, 89] (outside, float32 gives 0 or +inf already); NaN returned as is.
static inline __attribute__((always_inline)) float exp_f32(float x) {
    float c = x >= -104.0f ? x : -104.0f;  // NaN fails the comparison: a finite stand-in
    c = c <= 89.0f ? c : 89.0f;
    const float y = exp_bounded(c);
    return x == x ? y : x;
}

#define ERF_SPLIT 1.0f
#define ERF_MID 2.5f
static const float erf_small[8] = {
    1.283791661e-01f, -3.761262894e-01f, 1.128363162e-01f, -2.685649134e-02f,
    5.195774138e-03f, -8.117152611e-04f, 8.619014261e-05f, -2.156915116e-06f,
};
static const float erf_large[9] = {
    2.108076066e-01f, -7.434218377e-02f, 2.491462231e-02f, -8.132270537e-03f,
    2.302486682e-03f, -6.611123681e-04f, 5.433406914e-04f, 2.250744583e-04f,
    1.068454221e-04f,
};
#define ERF_SMALL_TERMS (int)(sizeof erf_small / sizeof erf_small[0])
#define ERF_LARGE_TERMS (int)(sizeof erf_large / sizeof erf_large[0])

static inline __attribute__((always_inline)) float erf_of(float x) {
    float a = fabsf(x);
    a = a < 4.0f ? a : 4.0f;  // NaN: 4, a finite stand-in (the result is x)
    const float s = a * a;
    float p = erf_small[ERF_SMALL_TERMS - 1];
    for (int k = ERF_SMALL_TERMS - 2; k >= 0; k--) p = fmaf(p, s, erf_small[k]);
    // x·P(s) as x + x·(P(s) − 1): the rounding of x·(P − 1), at most a quarter of the result,
    // costs a quarter as much, and P(0) = 2/√π is not a float32 while P(0) − 1 is near one.
    const float small = fmaf(a, p, a);
    const float t = a - ERF_MID;
    float q = erf_large[ERF_LARGE_TERMS - 1];
    for (int k = ERF_LARGE_TERMS - 2; k >= 0; k--) q = fmaf(q, t, erf_large[k]);
    const float large = fmaf(-exp_bounded(-s), q, 1.0f);
    const float magnitude = a < ERF_SPLIT ? small : large;
    const float result = copysignf(magnitude, x);
    return x == x ? result : x;
}

GK_CLONES_FMA void gk_math_f32(int function, float *dst, const float *src, ptrdiff_t count) {
    switch (function) {
    case GK_MATH_EXP:
        for (ptrdiff_t i = 0; i < count; i++) dst[i] = exp_f32(src[i]);
        break;
    case GK_MATH_ERF:
        for (ptrdiff_t i = 0; i < count; i++) dst[i] = erf_of(src[i]);
        break;
    case GK_MATH_SIGMOID:
        for (ptrdiff_t i = 0; i < count; i++) {
            const float e = exp_f32(-src[i]);
            dst[i] = 1.0f / (1.0f + e);
        }
        break;
    case GK_MATH_GELU: {
        const float c = (float)0.70710678118654752440;
        for (ptrdiff_t i = 0; i < count; i++) {
            const float x = src[i];
            dst[i] = (0.5f * x) * (1.0f + erf_of(x * c));
        }
        break;
    }
    default:
        break;
    }
}

GK_CLONES_FMA void gk_gelu_chain_f32(float *dst, const float *src, ptrdiff_t count, float divisor, float offset,
                                 float scale) {
    for (ptrdiff_t i = 0; i < count; i++) {
        const float x = src[i];
        dst[i] = (x * (erf_of(x / divisor) + offset)) * scale;
    }
}

// Eight interleaved partial sums of row[0..<size), added in lane order: the same bits at every
// vector width (each lane is one accumulator).
#define LANE_SUM(T, SUFFIX)                                                                        \
    static inline __attribute__((always_inline)) T lane_sum_##SUFFIX(const T *row, ptrdiff_t size) { \
        T lanes[8] = {0, 0, 0, 0, 0, 0, 0, 0};                                                     \
        ptrdiff_t i = 0;                                                                           \
        for (; i + 8 <= size; i += 8)                                                              \
            for (int j = 0; j < 8; j++) lanes[j] += row[i + j];                                    \
        for (int j = 0; i + j < size; j++) lanes[j] += row[i + j];                                 \
        T sum = lanes[0];                                                                          \
        for (int j = 1; j < 8; j++) sum += lanes[j];                                               \
        return sum;                                                                                \
    }                                                                                              \
    static inline __attribute__((always_inline)) T lane_squares_##SUFFIX(const T *row, ptrdiff_t size, \
                                                                          T mean) {                \
        T lanes[8] = {0, 0, 0, 0, 0, 0, 0, 0};                                                     \
        ptrdiff_t i = 0;                                                                           \
        for (; i + 8 <= size; i += 8)                                                              \
            for (int j = 0; j < 8; j++) {                                                          \
                const T d = row[i + j] - mean;                                                     \
                lanes[j] += d * d;                                                                 \
            }                                                                                      \
        for (int j = 0; i + j < size; j++) {                                                       \
            const T d = row[i + j] - mean;                                                         \
            lanes[j] += d * d;                                                                     \
        }                                                                                          \
        T sum = lanes[0];                                                                          \
        for (int j = 1; j < 8; j++) sum += lanes[j];                                               \
        return sum;                                                                                \
    }                                                                                              \
    /* The maximum by v > m ? v : m from −inf: a NaN is skipped here, but exp(NaN − m) makes the  \
       sum, and so the row, NaN anyway. */                                                         \
    static inline __attribute__((always_inline)) T lane_max_##SUFFIX(const T *row, ptrdiff_t size) { \
        T lanes[8];                                                                                \
        for (int j = 0; j < 8; j++) lanes[j] = -(T)INFINITY;                                       \
        ptrdiff_t i = 0;                                                                           \
        for (; i + 8 <= size; i += 8)                                                              \
            for (int j = 0; j < 8; j++) lanes[j] = row[i + j] > lanes[j] ? row[i + j] : lanes[j];  \
        for (int j = 0; i + j < size; j++) lanes[j] = row[i + j] > lanes[j] ? row[i + j] : lanes[j]; \
        T peak = lanes[0];                                                                         \
        for (int j = 1; j < 8; j++) peak = lanes[j] > peak ? lanes[j] : peak;                      \
        return peak;                                                                               \
    }

LANE_SUM(float, f32)
LANE_SUM(double, f64)

// e is exp_fma.h's e^x (that of Sigmoid and SiLU), not exp_f32 above: fused multiply-adds in
// Estrin's order, which took this loop from 1.33 to 1.03 ns an element (64 rows of 256, as in
// MobileViT's attention, L1/L2-resident); it rounds as well (exp_fma.h) but is a different
// function, so Softmax's bits may differ from an Exp node's by an ulp.
GK_CLONES_FMA void gk_softmax_rows_f32(float *dst, const float *src, ptrdiff_t rows, ptrdiff_t size) {
    for (ptrdiff_t r = 0; r < rows; r++) {
        const float *x = src + r * size;
        float *y = dst + r * size;
        const float peak = lane_max_f32(x, size);
        for (ptrdiff_t i = 0; i < size; i++) y[i] = gk_exp_fma_f32(x[i] - peak);
        // Times 1 / Σe rather than divided by Σe, as ONNX Runtime's MLAS does: a division per
        // element was a third of the row on AVX2 (a vector divide takes ~10 cycles there), and
        // the product differs from the quotient by at most one rounding (y ≤ 1, Σe ≥ 1).
        const float scale = 1.0f / lane_sum_f32(y, size);
        for (ptrdiff_t i = 0; i < size; i++) y[i] = y[i] * scale;
    }
}

GK_CLONES void gk_softmax_rows_f64(double *dst, const double *src, ptrdiff_t rows, ptrdiff_t size) {
    for (ptrdiff_t r = 0; r < rows; r++) {
        const double *x = src + r * size;
        double *y = dst + r * size;
        const double peak = lane_max_f64(x, size);
        for (ptrdiff_t i = 0; i < size; i++) y[i] = exp(x[i] - peak);
        const double sum = lane_sum_f64(y, size);
        for (ptrdiff_t i = 0; i < size; i++) y[i] = y[i] / sum;
    }
}

#define LAYER_NORM(T, SUFFIX)                                                                      \
    GK_CLONES void gk_layernorm_rows_##SUFFIX(T *dst, T *mean, T *inverse, const T *src,            \
                                              const T *scale, const T *bias, ptrdiff_t rows,        \
                                              ptrdiff_t size, T epsilon) {                          \
        for (ptrdiff_t r = 0; r < rows; r++) {                                                     \
            const T *x = src + r * size;                                                           \
            T *y = dst + r * size;                                                                 \
            const T mu = lane_sum_##SUFFIX(x, size) / (T)size;                                     \
            const T variance = lane_squares_##SUFFIX(x, size, mu) / (T)size;                       \
            const T inv = (T)1 / sqrt##SUFFIX(variance + epsilon);                                 \
            mean[r] = mu;                                                                          \
            inverse[r] = inv;                                                                      \
            for (ptrdiff_t i = 0; i < size; i++) y[i] = (x[i] - mu) * inv * scale[i] + bias[i];    \
        }                                                                                          \
    }

#define sqrtf32 sqrtf
#define sqrtf64 sqrt
LAYER_NORM(float, f32)
LAYER_NORM(double, f64)
