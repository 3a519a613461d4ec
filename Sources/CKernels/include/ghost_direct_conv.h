// Direct 3×3 convolution (stride 1 or 2, no dilation, one group) for layers with few channels,
// where im2col's nine copies of the input cost as much as the product itself.
//
// Each output is the sum, from +0 and in the order k = (c·3 + ky)·3 + kx, of fused multiply-adds
// weight[m][k] · x[c][oy·s − pad_top + ky][ox·s − pad_left + kx] with x = 0 outside the image:
// the operations the packed GEMM (ghost_gemm.h) performs on im2col's columns, in the same order,
// so both paths give the same bits.
#ifndef GHOST_DIRECT_CONV_H
#define GHOST_DIRECT_CONV_H

#include <stdbool.h>
#include <stddef.h>

// Floats of scratch gk_conv3x3_f32 needs for c channels and an oh × ow output at this stride.
size_t gk_conv3x3_scratch_count(ptrdiff_t c, ptrdiff_t oh, ptrdiff_t ow, ptrdiff_t stride);

// x: c × h × w; weights: m × c × 3 × 3; out: m × oh × ow (every element written). Returns false,
// with out untouched, when the CPU has no AVX2+FMA kernel (the caller then uses the GEMM).
bool gk_conv3x3_f32(const float *x, ptrdiff_t c, ptrdiff_t h, ptrdiff_t w, const float *weights,
                    ptrdiff_t m, float *out, ptrdiff_t oh, ptrdiff_t ow, ptrdiff_t stride,
                    ptrdiff_t pad_top, ptrdiff_t pad_left, float *scratch);

#endif
