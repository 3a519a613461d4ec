// See ghost_activation.h. One loop per activation (the switch is outside the loops, so each is
// a straight elementwise loop the compiler vectorizes); target_clones builds each three times.
#include "ghost_activation.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#pragma clang fp contract(off)

#include "clones.h"
#include "exp_fma.h"

// Bounds that let NaN through, as ONNX Runtime's std::min/std::max with x first do (see the header).
#define GK_AT_MOST(x, high) ((high) < (x) ? (high) : (x))
#define GK_AT_LEAST(x, low) ((x) < (low) ? (low) : (x))

// See exp_fma.h.
static inline float gk_exp_inline_f32(float x) { return gk_exp_fma_f32(x); }

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
