// See ghost_activation.h. One loop per activation (the switch is outside the loops, so each is
// a straight elementwise loop the compiler vectorizes); target_clones builds each three times.
#include "ghost_activation.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#pragma clang fp contract(off)

#include "clones.h"

// The epilogue's clones name whole x86-64 levels, because the exp above needs FMA, which the
// "avx2" target alone does not include (v3: AVX2 + FMA; v4: AVX-512).
#if defined(__x86_64__) && defined(__linux__) && !defined(GK_SANITIZED)
#define GK_CLONES_FMA __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define GK_CLONES_FMA
#endif

// Bounds that let NaN through, as ONNX Runtime's std::min/std::max with x first do (see the header).
#define GK_AT_MOST(x, high) ((high) < (x) ? (high) : (x))
#define GK_AT_LEAST(x, low) ((x) < (low) ? (low) : (x))

// 2^k for k in [-126, 127], from its exponent bits.
static inline float gk_power_of_two_f32(int32_t k) {
    int32_t bits = (k + 127) << 23;
    float value;
    memcpy(&value, &bits, sizeof value);
    return value;
}

// See the header. Branch-free (selects only), so loops over it vectorize; Cephes' expf
// coefficients (a minimax fit of (e^r − 1 − r) / r² on |r| ≤ ln2/2). r and the polynomial are
// explicit fused multiply-adds (fmaf is exactly rounded wherever it runs: one instruction in the
// FMA clones below, glibc's software fmaf in the baseline one, the same bits either way), the
// polynomial in Estrin's order, P(r) = (c5 + c4·r)·r⁴ + (c3 + c2·r)·r² + (c1 + c0·r): a chain of
// 3 dependent FMAs instead of 6 multiply-add pairs. The SiLU epilogue was latency-bound on that
// chain (~100 cycles a vector, more than the out-of-order window hides): 1.22 → 0.95 ns an
// element on an L1-resident plane. Against double-precision e^x this rounds as well as the
// unfused Horner form it replaced (99.2% of every 61st float32 in [−104, 88] within half an ulp
// for both, SiLU within 2.7 ulp of x/(1 + e^(−x)) for both); results differ from it by at most
// 2 ulp of the SiLU output, well inside ONNX Runtime's own (a rational approximation of the
// logistic function in MLAS).
static inline float gk_exp_inline_f32(float x) {
    // NaN fails both comparisons and becomes −104 here: a finite value for the integer steps.
    float c = x >= -104.0f ? x : -104.0f;
    c = c <= 89.0f ? c : 89.0f;
    // round(c·log2 e) by the 1.5·2^23 shift (|c·log2 e| < 2^22, round to nearest even).
    float n = (c * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
    float r = fmaf(n, 2.12194440e-4f, fmaf(n, -0.693359375f, c));
    float r2 = r * r;
    float high = fmaf(1.9875691500e-4f, r, 1.3981999507e-3f);
    float middle = fmaf(8.3334519073e-3f, r, 4.1665795894e-2f);
    float low = fmaf(1.6666665459e-1f, r, 5.0000001201e-1f);
    float p = fmaf(fmaf(high, r2, middle), r2, low);
    float e = fmaf(p, r2, r) + 1.0f;
    int32_t k = (int32_t)n, half = k >> 1;
    float y = (e * gk_power_of_two_f32(half)) * gk_power_of_two_f32(k - half);
    return x != x ? x : y;
}

float gk_exp_f32(float x) { return gk_exp_inline_f32(x); }

static inline double gk_exp_inline_f64(double x) { return exp(x); }

// exp in the loops' type T: the float32 one above, libm's in float64.
#define GK_EXP(v) _Generic((v), float: gk_exp_inline_f32, double: gk_exp_inline_f64)(v)

// The loop body for each activation, over v (already biased and scaled) into out.
#define GK_ACTIVATION_LOOP(T, LOAD, STORE)                                                         \
    switch (activation) {                                                                          \
    case GK_ACT_RELU:                                                                              \
        for (ptrdiff_t i = 0; i < count; i++) { T v = LOAD; STORE(v < 0 ? (T)0 : v); }            \
        break;                                                                                     \
    case GK_ACT_LEAKY_RELU:                                                                        \
        for (ptrdiff_t i = 0; i < count; i++) { T v = LOAD; STORE(v >= 0 ? v : a * v); }          \
        break;                                                                                     \
    case GK_ACT_HARD_SIGMOID:                                                                      \
        for (ptrdiff_t i = 0; i < count; i++) {                                                    \
            T v = LOAD;                                                                            \
            T u = a * v + b;                                                                       \
            T m = GK_AT_MOST(u, (T)1);                                                             \
            STORE(GK_AT_LEAST(m, (T)0));                                                           \
        }                                                                                          \
        break;                                                                                     \
    case GK_ACT_HARD_SWISH:                                                                        \
        for (ptrdiff_t i = 0; i < count; i++) {                                                    \
            T v = LOAD;                                                                            \
            T u = v / (T)6 + (T)0.5;                                                               \
            T m = GK_AT_MOST(u, (T)1);                                                             \
            STORE(v * GK_AT_LEAST(m, (T)0));                                                       \
        }                                                                                          \
        break;                                                                                     \
    case GK_ACT_CLIP:                                                                              \
        for (ptrdiff_t i = 0; i < count; i++) {                                                    \
            T v = LOAD;                                                                            \
            T m = GK_AT_LEAST(v, a);                                                               \
            STORE(GK_AT_MOST(m, b));                                                               \
        }                                                                                          \
        break;                                                                                     \
    case GK_ACT_SIGMOID:                                                                           \
        for (ptrdiff_t i = 0; i < count; i++) {                                                    \
            T v = LOAD;                                                                            \
            STORE((T)1 / ((T)1 + GK_EXP(-v)));                                                     \
        }                                                                                          \
        break;                                                                                     \
    case GK_ACT_SILU:                                                                              \
        for (ptrdiff_t i = 0; i < count; i++) {                                                    \
            T v = LOAD;                                                                            \
            T s = (T)1 / ((T)1 + GK_EXP(-v));                                                      \
            STORE(v * s);                                                                          \
        }                                                                                          \
        break;                                                                                     \
    default:                                                                                       \
        for (ptrdiff_t i = 0; i < count; i++) { T v = LOAD; STORE(v); }                           \
        break;                                                                                     \
    }

// Bias and affine steps, selected outside the loops too, over IN[i] into OUT[i].
#define GK_EPILOGUE_LOOPS(T, IN, OUT)                                                              \
    if (has_bias && has_affine) {                                                                  \
        GK_ACTIVATION_LOOP(T, (IN[i] + bias) * scale + shift, OUT[i] = )                           \
    } else if (has_bias) {                                                                         \
        GK_ACTIVATION_LOOP(T, IN[i] + bias, OUT[i] = )                                             \
    } else if (has_affine) {                                                                       \
        GK_ACTIVATION_LOOP(T, IN[i] * scale + shift, OUT[i] = )                                    \
    } else {                                                                                       \
        GK_ACTIVATION_LOOP(T, IN[i], OUT[i] = )                                                    \
    }

#define GK_EPILOGUE(T, SUFFIX)                                                                     \
    GK_CLONES_FMA void gk_epilogue_##SUFFIX(T *dst, const T *src, ptrdiff_t count, bool has_bias,      \
                                        T bias, bool has_affine, T scale, T shift, int activation, \
                                        double p0, double p1) {                                    \
        const T a = (T)p0, b = (T)p1;                                                              \
        /* In place through one pointer, or between two that do not alias. */                     \
        if (dst == src) {                                                                          \
            T *restrict x = dst;                                                                   \
            GK_EPILOGUE_LOOPS(T, x, x)                                                             \
        } else {                                                                                   \
            T *restrict out = dst;                                                                 \
            const T *restrict in = src;                                                            \
            GK_EPILOGUE_LOOPS(T, in, out)                                                          \
        }                                                                                          \
    }

GK_EPILOGUE(float, f32)
GK_EPILOGUE(double, f64)

// One loop per (operation, which operand is broadcast): each a plain vectorizable loop.
#define GK_BINARY_LOOPS(T, OPERATOR)                                                               \
    if (a_step == 1 && b_step == 1) {                                                              \
        for (ptrdiff_t i = 0; i < count; i++) out[i] = a[i] OPERATOR b[i];                         \
    } else if (a_step == 1) {                                                                      \
        const T v = b[0];                                                                          \
        for (ptrdiff_t i = 0; i < count; i++) out[i] = a[i] OPERATOR v;                            \
    } else if (b_step == 1) {                                                                      \
        const T v = a[0];                                                                          \
        for (ptrdiff_t i = 0; i < count; i++) out[i] = v OPERATOR b[i];                            \
    } else {                                                                                       \
        const T v = a[0] OPERATOR b[0];                                                            \
        for (ptrdiff_t i = 0; i < count; i++) out[i] = v;                                          \
    }

#define GK_BINARY(T, SUFFIX)                                                                       \
    GK_CLONES void gk_binary_##SUFFIX(int op, T *restrict out, const T *a, ptrdiff_t a_step,       \
                                      const T *b, ptrdiff_t b_step, ptrdiff_t count) {             \
        switch (op) {                                                                              \
        case GK_BIN_ADD: GK_BINARY_LOOPS(T, +) break;                                              \
        case GK_BIN_SUB: GK_BINARY_LOOPS(T, -) break;                                              \
        case GK_BIN_MUL: GK_BINARY_LOOPS(T, *) break;                                              \
        default: GK_BINARY_LOOPS(T, /) break;                                                      \
        }                                                                                          \
    }

GK_BINARY(float, f32)
GK_BINARY(double, f64)
