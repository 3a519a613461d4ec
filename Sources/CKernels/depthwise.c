// See ghost_kernels.h. Each exported function dispatches to a loop specialized for its stride
// (and tap count), which the compiler vectorizes; target_clones builds it three times.
#include "ghost_kernels.h"

#pragma clang fp contract(off)

#include "clones.h"

#define NINE_TAPS(T, SUFFIX)                                                                       \
    static inline __attribute__((always_inline)) void nine_taps_##SUFFIX(T *restrict dst, const T *a, const T *b, const T *c,     \
                                          const T *w, ptrdiff_t count, ptrdiff_t s) {              \
        const T w0 = w[0], w1 = w[1], w2 = w[2], w3 = w[3], w4 = w[4], w5 = w[5];                 \
        const T w6 = w[6], w7 = w[7], w8 = w[8];                                                   \
        for (ptrdiff_t i = 0; i < count; i++) {                                                    \
            const ptrdiff_t j = i * s;                                                             \
            T sum = w0 * a[j] + w1 * a[j + 1] + w2 * a[j + 2];                                     \
            sum += w3 * b[j] + w4 * b[j + 1] + w5 * b[j + 2];                                      \
            sum += w6 * c[j] + w7 * c[j + 1] + w8 * c[j + 2];                                      \
            dst[i] = sum;                                                                          \
        }                                                                                          \
    }                                                                                              \
    GK_CLONES void gk_nine_taps_##SUFFIX(T *dst, const T *a, const T *b, const T *c, const T *w,   \
                                         ptrdiff_t count, ptrdiff_t stride) {                      \
        if (stride == 1) {                                                                         \
            nine_taps_##SUFFIX(dst, a, b, c, w, count, 1);                                         \
        } else if (stride == 2) {                                                                  \
            nine_taps_##SUFFIX(dst, a, b, c, w, count, 2);                                         \
        } else {                                                                                   \
            nine_taps_##SUFFIX(dst, a, b, c, w, count, stride);                                    \
        }                                                                                          \
    }

#define ROW_TAPS(T, SUFFIX)                                                                        \
    static inline __attribute__((always_inline)) void row3_##SUFFIX(T *restrict dst, const T *row, const T *w, ptrdiff_t count,  \
                                     ptrdiff_t s) {                                                \
        const T w0 = w[0], w1 = w[1], w2 = w[2];                                                   \
        for (ptrdiff_t i = 0; i < count; i++) {                                                    \
            const ptrdiff_t j = i * s;                                                             \
            dst[i] += w0 * row[j] + w1 * row[j + 1] + w2 * row[j + 2];                             \
        }                                                                                          \
    }                                                                                              \
    static inline __attribute__((always_inline)) void row5_##SUFFIX(T *restrict dst, const T *row, const T *w, ptrdiff_t count,  \
                                     ptrdiff_t s) {                                                \
        const T w0 = w[0], w1 = w[1], w2 = w[2], w3 = w[3], w4 = w[4];                             \
        for (ptrdiff_t i = 0; i < count; i++) {                                                    \
            const ptrdiff_t j = i * s;                                                             \
            dst[i] += w0 * row[j] + w1 * row[j + 1] + w2 * row[j + 2] + w3 * row[j + 3] +          \
                      w4 * row[j + 4];                                                             \
        }                                                                                          \
    }                                                                                              \
    GK_CLONES void gk_row_taps_##SUFFIX(T *dst, const T *row, const T *w, ptrdiff_t count,         \
                                        ptrdiff_t taps, ptrdiff_t stride) {                        \
        if (taps == 3) {                                                                           \
            if (stride == 1) row3_##SUFFIX(dst, row, w, count, 1);                                 \
            else if (stride == 2) row3_##SUFFIX(dst, row, w, count, 2);                            \
            else row3_##SUFFIX(dst, row, w, count, stride);                                        \
        } else {                                                                                   \
            if (stride == 1) row5_##SUFFIX(dst, row, w, count, 1);                                 \
            else if (stride == 2) row5_##SUFFIX(dst, row, w, count, 2);                            \
            else row5_##SUFFIX(dst, row, w, count, stride);                                        \
        }                                                                                          \
    }

#define TAPS_5X5(T, SUFFIX)                                                                        \
    static inline __attribute__((always_inline)) void taps5x5_##SUFFIX(T *restrict dst, const T *first, ptrdiff_t rs, const T *w, \
                                        ptrdiff_t count, ptrdiff_t s) {                            \
        for (ptrdiff_t i = 0; i < count; i++) {                                                    \
            const ptrdiff_t j = i * s;                                                             \
            T sum = 0;                                                                             \
            for (int r = 0; r < 5; r++) {                                                          \
                const T *row = first + r * rs + j;                                                 \
                const T *k = w + 5 * r;                                                            \
                sum += k[0] * row[0] + k[1] * row[1] + k[2] * row[2] + k[3] * row[3] + k[4] * row[4]; \
            }                                                                                      \
            dst[i] = sum;                                                                          \
        }                                                                                          \
    }                                                                                              \
    GK_CLONES void gk_taps5x5_##SUFFIX(T *dst, const T *first, ptrdiff_t row_stride, const T *w,   \
                                       ptrdiff_t count, ptrdiff_t stride) {                        \
        if (stride == 1) {                                                                         \
            taps5x5_##SUFFIX(dst, first, row_stride, w, count, 1);                                 \
        } else if (stride == 2) {                                                                  \
            taps5x5_##SUFFIX(dst, first, row_stride, w, count, 2);                                 \
        } else {                                                                                   \
            taps5x5_##SUFFIX(dst, first, row_stride, w, count, stride);                            \
        }                                                                                          \
    }

TAPS_5X5(float, f32)
TAPS_5X5(double, f64)
// The 7×7 window (FastViT's RepMixer and its stride-2 stems): seven row sums of seven taps each,
// added into one sum per output, so an output row takes one pass instead of 49.
#define TAPS_7X7(T, SUFFIX)                                                                        \
    static inline __attribute__((always_inline)) void taps7x7_##SUFFIX(T *restrict dst, const T *first, ptrdiff_t rs, const T *w, \
                                        ptrdiff_t count, ptrdiff_t s) {                            \
        for (ptrdiff_t i = 0; i < count; i++) {                                                    \
            const ptrdiff_t j = i * s;                                                             \
            T sum = 0;                                                                             \
            for (int r = 0; r < 7; r++) {                                                          \
                const T *row = first + r * rs + j;                                                 \
                const T *k = w + 7 * r;                                                            \
                sum += k[0] * row[0] + k[1] * row[1] + k[2] * row[2] + k[3] * row[3] + k[4] * row[4] + \
                       k[5] * row[5] + k[6] * row[6];                                              \
            }                                                                                      \
            dst[i] = sum;                                                                          \
        }                                                                                          \
    }                                                                                              \
    GK_CLONES void gk_taps7x7_##SUFFIX(T *dst, const T *first, ptrdiff_t row_stride, const T *w,   \
                                       ptrdiff_t count, ptrdiff_t stride) {                        \
        if (stride == 1) {                                                                         \
            taps7x7_##SUFFIX(dst, first, row_stride, w, count, 1);                                 \
        } else if (stride == 2) {                                                                  \
            taps7x7_##SUFFIX(dst, first, row_stride, w, count, 2);                                 \
        } else {                                                                                   \
            taps7x7_##SUFFIX(dst, first, row_stride, w, count, stride);                            \
        }                                                                                          \
    }

TAPS_7X7(float, f32)
TAPS_7X7(double, f64)
NINE_TAPS(float, f32)
NINE_TAPS(double, f64)
ROW_TAPS(float, f32)
ROW_TAPS(double, f64)
