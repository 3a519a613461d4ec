// See ghost_gemm.h (gk_region_gather_*). The rows of a region are short (8–16 floats for
// DeepLabV3's bands), where a memmove call per row cost more than the copy: one loop over the
// whole region, vectorized per row.
#include "clones.h"
#include "ghost_gemm.h"

#define GK_GATHER(NAME, T)                                                                         \
    GK_CLONES void NAME(const T *restrict x, size_t plane, size_t row_step, int stride_x,          \
                        int channels, const ptrdiff_t *offsets, int taps, int rows, int cols,      \
                        T *restrict col) {                                                         \
        for (int c = 0; c < channels; c++) {                                                       \
            const T *channel = x + (size_t)c * plane;                                              \
            for (int t = 0; t < taps; t++) {                                                       \
                const T *source = channel + offsets[t];                                            \
                for (int r = 0; r < rows; r++, source += row_step, col += cols) {                  \
                    if (stride_x == 1) {                                                           \
                        for (int j = 0; j < cols; j++) col[j] = source[j];                         \
                    } else {                                                                       \
                        for (int j = 0; j < cols; j++) col[j] = source[(size_t)j * stride_x];      \
                    }                                                                              \
                }                                                                                  \
            }                                                                                      \
        }                                                                                          \
    }

GK_GATHER(gk_region_gather_f32, float)
GK_GATHER(gk_region_gather_f64, double)
