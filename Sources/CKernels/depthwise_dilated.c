// See gk_dilated_taps_* in ghost_kernels.h. The square 3×3, 5×5 and 7×7 windows keep each
// output's sum in a register across all taps (one pass over the output row); other windows add one
// tap at a time into the row, which gives every output the same chain of roundings in the same
// order. The square loops run two vectors of outputs at once: each sum is one chain of 9–49
// dependent adds, so a second independent chain hides their latency (a 32-wide row is two
// AVX2 iterations or one AVX-512 one, with no scalar tail).
#include "ghost_kernels.h"

#pragma clang fp contract(off)

#include "clones.h"

#define SQUARE_TAPS(T, SUFFIX, K)                                                                  \
    static inline __attribute__((always_inline)) void square##K##_##SUFFIX(                        \
        T *restrict dst, const T *first, ptrdiff_t rs, ptrdiff_t cs, const T *w, ptrdiff_t count, \
        ptrdiff_t s) {                                                                             \
        _Pragma("clang loop interleave_count(2)")                                                  \
        for (ptrdiff_t i = 0; i < count; i++) {                                                    \
            const T *origin = first + i * s;                                                       \
            T sum = 0;                                                                             \
            for (int r = 0; r < K; r++) {                                                          \
                for (int c = 0; c < K; c++) sum += w[r * K + c] * origin[r * rs + c * cs];         \
            }                                                                                      \
            dst[i] = sum;                                                                          \
        }                                                                                          \
    }

#define DILATED_TAPS(T, SUFFIX)                                                                    \
    SQUARE_TAPS(T, SUFFIX, 3)                                                                      \
    SQUARE_TAPS(T, SUFFIX, 5)                                                                      \
    SQUARE_TAPS(T, SUFFIX, 7)                                                                      \
    static inline __attribute__((always_inline)) void any_##SUFFIX(                                \
        T *restrict dst, const T *first, ptrdiff_t rs, ptrdiff_t cs, const T *w, ptrdiff_t count, \
        ptrdiff_t s, ptrdiff_t kh, ptrdiff_t kw) {                                                 \
        for (ptrdiff_t i = 0; i < count; i++) dst[i] = 0;                                          \
        for (ptrdiff_t r = 0; r < kh; r++) {                                                       \
            for (ptrdiff_t c = 0; c < kw; c++) {                                                   \
                const T weight = w[r * kw + c];                                                    \
                const T *source = first + r * rs + c * cs;                                         \
                for (ptrdiff_t i = 0; i < count; i++) dst[i] += weight * source[i * s];            \
            }                                                                                      \
        }                                                                                          \
    }                                                                                              \
    GK_CLONES void gk_dilated_taps_##SUFFIX(T *dst, const T *first, ptrdiff_t row_stride,          \
                                            ptrdiff_t column_step, const T *w, ptrdiff_t count,    \
                                            ptrdiff_t stride, ptrdiff_t kernel_height,             \
                                            ptrdiff_t kernel_width) {                              \
        const ptrdiff_t rs = row_stride, cs = column_step;                                         \
        if (kernel_height == kernel_width && (stride == 1 || stride == 2)) {                       \
            const int two = stride == 2;                                                           \
            switch (kernel_height) {                                                               \
            case 3:                                                                                \
                if (two) square3_##SUFFIX(dst, first, rs, cs, w, count, 2);                        \
                else square3_##SUFFIX(dst, first, rs, cs, w, count, 1);                            \
                return;                                                                            \
            case 5:                                                                                \
                if (two) square5_##SUFFIX(dst, first, rs, cs, w, count, 2);                        \
                else square5_##SUFFIX(dst, first, rs, cs, w, count, 1);                            \
                return;                                                                            \
            case 7:                                                                                \
                if (two) square7_##SUFFIX(dst, first, rs, cs, w, count, 2);                        \
                else square7_##SUFFIX(dst, first, rs, cs, w, count, 1);                            \
                return;                                                                            \
            default: break;                                                                        \
            }                                                                                      \
        }                                                                                          \
        if (stride == 1) {                                                                         \
            any_##SUFFIX(dst, first, rs, cs, w, count, 1, kernel_height, kernel_width);            \
        } else {                                                                                   \
            any_##SUFFIX(dst, first, rs, cs, w, count, stride, kernel_height, kernel_width);       \
        }                                                                                          \
    }

DILATED_TAPS(float, f32)
DILATED_TAPS(double, f64)
