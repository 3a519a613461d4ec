// See ghost_math.h.
//
// exp: e^x = 2^n · e^r with n = round(x·log₂e) and r = x − n·ln2 (ln2 split in a high part with
// trailing zero bits, so n·ln2_hi is exact, and a low part), |r| ≤ ln2/2; e^r by its Taylor series
// to r⁸ (remainder below 3e-10 relative, far under float32's 6e-8). n is rounded by adding 1.5·2⁵², which leaves n in the
// low bits of the sum: the bits of 2^n are built from them with integer adds and shifts, which
// vectorize on every x86 level (a double → int64 conversion does not before AVX-512).
//
// erf: for |x| < 1, x·Σ_{k≤11} (−1)^k·2/√π·x^{2k}/(k!(2k+1)) (Taylor; remainder below 2e-10); for
// 1 ≤ |x| ≤ 4, 1 − e^(−x²)·erfcx(|x|), erfcx(x) = e^{x²}·erfc(x) by the first 14 terms of the
// degree-16 Chebyshev interpolant on [1, 4] (coefficients computed with mpmath at 40 digits; the
// dropped terms sum to under 3e-10, 2e-10 on erf);
// beyond 4, erf rounds to ±1 in float32 (erfc(4) ≈ 1.5e-8 is under half an ulp of 1), which the
// same formula gives with |x| held at 4.
#include "ghost_math.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#pragma clang fp contract(off)

#include "clones.h"

// e^x for |x| ≤ 200 (not NaN); the result is a normal double there.
static inline __attribute__((always_inline)) double exp_core(double x) {
    const double shifter = 6755399441055744.0;  // 1.5·2⁵²
    const double log2e = 1.4426950408889634;
    const double ln2_hi = 6.93147180369123816490e-01;
    const double ln2_lo = 1.90821492927058770002e-10;
    const double shifted = x * log2e + shifter;
    const double n = shifted - shifter;
    const double r = (x - n * ln2_hi) - n * ln2_lo;
    double p = 1.0 / 40320.0;
    p = p * r + 1.0 / 5040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    int64_t bits;
    memcpy(&bits, &shifted, sizeof bits);
    // The low 52 bits of `shifted` hold n + 2⁵¹ (two's complement in the mantissa); shifting by
    // 52 keeps n's low 12 bits, and adding the exponent bias makes 2^n's bit pattern.
    const int64_t scale_bits = (int64_t)((uint64_t)(bits + 1023) << 52);
    double scale;
    memcpy(&scale, &scale_bits, sizeof scale);
    return p * scale;
}

// e^x in double for a float32 argument: held to ±200 (a float32 result is then 0 or +inf already),
// NaN replaced by 0 here and restored by the caller.
static inline __attribute__((always_inline)) double exp_of(float x) {
    double d = x;
    d = d > 200.0 ? 200.0 : d;
    d = d < -200.0 ? -200.0 : d;
    d = x == x ? d : 0.0;
    return exp_core(d);
}

static const double taylor[12] = {
    1.1283791670955126, -0.37612638903183754, 0.11283791670955126, -0.026866170645131252,
    0.0052239776254421879, -0.00085483270234508533, 0.00012055332981789664, -1.492565035840625e-05,
    1.6462114365889248e-06, -1.6365844691234924e-07, 1.4807192815879218e-08, -1.2290555301717928e-09,
};

static const double chebyshev[14] = {
    0.24442575284923573, -0.13589862891594598, 0.035635114148534972, -0.0088840986182224906,
    0.0021184239975531771, -0.00048539876408003704, 0.00010727375453771771, -2.2936634481904853e-05,
    4.756874691575491e-06, -9.5899448326584727e-07, 1.8829006882671992e-07, -3.6063206602520035e-08,
    6.7476019290486665e-09, -1.2349062552185037e-09,
};

static inline __attribute__((always_inline)) float erf_of(float x) {
    const double d = x == x ? (double)x : 0.0;
    const double square = d * d;  // exact: 24 + 24 significant bits
    double p = taylor[11];
    for (int k = 10; k >= 0; k--) p = p * square + taylor[k];
    const double small = d * p;

    double a = fabs(d);
    a = a < 4.0 ? a : 4.0;
    const double t = (a - 2.5) * (2.0 / 3.0);
    const double twice = t + t;
    double b1 = 0.0, b2 = 0.0;
    for (int k = 13; k >= 1; k--) {
        const double b0 = (chebyshev[k] + twice * b1) - b2;
        b2 = b1;
        b1 = b0;
    }
    const double erfcx = (chebyshev[0] + t * b1) - b2;
    const double tail = 1.0 - exp_core(-(a * a)) * erfcx;
    const double large = d < 0 ? -tail : tail;
    const float result = (float)(fabs(d) < 1.0 ? small : large);
    return x == x ? result : x;
}

static inline __attribute__((always_inline)) float exp_f32(float x) {
    const float result = (float)exp_of(x);
    return x == x ? result : x;
}

GK_CLONES void gk_math_f32(int function, float *dst, const float *src, ptrdiff_t count) {
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

GK_CLONES void gk_softmax_rows_f32(float *dst, const float *src, ptrdiff_t rows, ptrdiff_t size) {
    for (ptrdiff_t r = 0; r < rows; r++) {
        const float *x = src + r * size;
        float *y = dst + r * size;
        const float peak = lane_max_f32(x, size);
        for (ptrdiff_t i = 0; i < size; i++) y[i] = exp_f32(x[i] - peak);
        const float sum = lane_sum_f32(y, size);
        for (ptrdiff_t i = 0; i < size; i++) y[i] = y[i] / sum;
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
