// See ghost_direct_conv.h.
//
// Layout. The input is first copied into `scratch`, zero-padded, as the rows the windows read:
// for each channel, (oh − 1)·s + 3 rows of a fixed width that covers the output rounded up to
// whole vectors, so the kernel never tests a bound. At stride 2 each row is split into its even
// and odd positions (E then O), so that the three taps of a window row are the contiguous runs
// E[ox], O[ox] and E[ox + 1]: every load is a plain vector load at both strides.
//
// Kernel (AVX2+FMA): a tile of up to 4 output channels × 16 columns (8 accumulators) runs over
// all c·9 taps; each tap is one or two loads of the input row, one broadcast weight per channel
// and one FMA per accumulator. Tiles sweep an output row with all its channels while the c·3
// input rows it reads are in cache.
#include "ghost_direct_conv.h"
#include "gemm_isa.h"

#include <string.h>

#pragma clang fp contract(off)

#define GK_LANES 8

static inline ptrdiff_t gk_round_up_lanes(ptrdiff_t n) { return (n + GK_LANES - 1) / GK_LANES * GK_LANES; }

// Width of one padded row: at stride 1 positions 0 ..< ow8 + 2; at stride 2 E (ow8 + 1) then O (ow8).
static inline ptrdiff_t gk_row_width(ptrdiff_t ow8, ptrdiff_t stride) {
    return stride == 1 ? ow8 + 2 : 2 * ow8 + 1;
}

size_t gk_conv3x3_scratch_count(ptrdiff_t c, ptrdiff_t oh, ptrdiff_t ow, ptrdiff_t stride) {
    const ptrdiff_t rows = (oh - 1) * stride + 3;
    return (size_t)c * (size_t)rows * (size_t)gk_row_width(gk_round_up_lanes(ow), stride);
}

// Padded row r of a channel holds input row r − pad_top; its position p holds column p − pad_left.
static void gk_pad_rows(const float *x, ptrdiff_t c, ptrdiff_t h, ptrdiff_t w, ptrdiff_t oh, ptrdiff_t ow8,
                        ptrdiff_t stride, ptrdiff_t pad_top, ptrdiff_t pad_left, float *scratch) {
    const ptrdiff_t rows = (oh - 1) * stride + 3, width = gk_row_width(ow8, stride);
    const ptrdiff_t positions = (ow8 - 1) * stride + 3;  // what the widest tile reads
    // The input columns that land in the row: 0 ≤ p − pad_left < w with p < positions.
    const ptrdiff_t first = 0, end = positions - pad_left < w ? positions - pad_left : w;
    for (ptrdiff_t ch = 0; ch < c; ch++) {
        for (ptrdiff_t r = 0; r < rows; r++) {
            float *dst = scratch + (ch * rows + r) * width;
            memset(dst, 0, (size_t)width * sizeof(float));
            const ptrdiff_t iy = r - pad_top;
            if (iy < 0 || iy >= h || end <= first) continue;
            const float *src = x + (ch * h + iy) * w;
            if (stride == 1) {
                memcpy(dst + pad_left, src, (size_t)(end - first) * sizeof(float));
            } else {
                float *odd = dst + ow8 + 1;
                for (ptrdiff_t ix = first; ix < end; ix++) {
                    const ptrdiff_t p = ix + pad_left;
                    if (p & 1) odd[p >> 1] = src[ix]; else dst[p >> 1] = src[ix];
                }
            }
        }
    }
}

#if defined(__x86_64__)
#include <immintrin.h>

#define GK_AVX2 __attribute__((target("avx2,fma")))
#define GK_INLINE static inline __attribute__((always_inline))

// One tile: MB channels (weights rows w, w + k, …) × NV vectors from input column `in`.
GK_AVX2 GK_INLINE void gk_tile(const float *in, ptrdiff_t channel_stride, ptrdiff_t row_stride,
                               const ptrdiff_t offsets[3], const float *w, ptrdiff_t c, int MB, int NV,
                               float *out, ptrdiff_t out_stride, ptrdiff_t columns) {
    const ptrdiff_t k = c * 9;
    __m256 acc[4][2];
    for (int i = 0; i < MB; i++)
        for (int v = 0; v < NV; v++) acc[i][v] = _mm256_setzero_ps();
    for (ptrdiff_t ch = 0; ch < c; ch++) {
        for (int ky = 0; ky < 3; ky++) {
            const float *row = in + ch * channel_stride + ky * row_stride;
            for (int kx = 0; kx < 3; kx++) {
                const float *p = row + offsets[kx];
                __m256 xv[2];
                for (int v = 0; v < NV; v++) xv[v] = _mm256_loadu_ps(p + GK_LANES * v);
                const ptrdiff_t tap = (ch * 3 + ky) * 3 + kx;
                for (int i = 0; i < MB; i++) {
                    const __m256 wv = _mm256_broadcast_ss(w + i * k + tap);
                    for (int v = 0; v < NV; v++) acc[i][v] = _mm256_fmadd_ps(wv, xv[v], acc[i][v]);
                }
            }
        }
    }
    if (columns == GK_LANES * NV) {
        for (int i = 0; i < MB; i++)
            for (int v = 0; v < NV; v++) _mm256_storeu_ps(out + i * out_stride + GK_LANES * v, acc[i][v]);
    } else {
        float spill[2 * GK_LANES];
        for (int i = 0; i < MB; i++) {
            for (int v = 0; v < NV; v++) _mm256_storeu_ps(spill + GK_LANES * v, acc[i][v]);
            memcpy(out + i * out_stride, spill, (size_t)columns * sizeof(float));
        }
    }
}

#define GK_TILE_CASE(MB_, NV_)                                                                     \
    gk_tile(in, channel_stride, row_stride, offsets, w, c, MB_, NV_, target, out_stride, columns)

GK_AVX2 static void gk_conv3x3_avx2(const float *scratch, ptrdiff_t c, const float *weights, ptrdiff_t m,
                                    float *out, ptrdiff_t oh, ptrdiff_t ow, ptrdiff_t ow8, ptrdiff_t stride) {
    const ptrdiff_t rows = (oh - 1) * stride + 3, row_stride = gk_row_width(ow8, stride);
    const ptrdiff_t channel_stride = rows * row_stride, out_stride = oh * ow;
    const ptrdiff_t offsets[3] = {0, stride == 1 ? 1 : ow8 + 1, stride == 1 ? 2 : 1};
    for (ptrdiff_t oy = 0; oy < oh; oy++) {
        const float *base = scratch + oy * stride * row_stride;
        for (ptrdiff_t m0 = 0; m0 < m; m0 += 4) {
            const ptrdiff_t mb = m - m0 < 4 ? m - m0 : 4;
            const float *w = weights + m0 * c * 9;
            for (ptrdiff_t ox = 0; ox < ow; ) {
                const int nv = ox + 2 * GK_LANES <= ow8 ? 2 : 1;
                const ptrdiff_t left = ow - ox, columns = left < GK_LANES * nv ? left : GK_LANES * nv;
                const float *in = base + ox;
                float *target = out + m0 * out_stride + oy * ow + ox;
                switch (mb * 2 + nv) {
                case 10: GK_TILE_CASE(4, 2); break;
                case 9: GK_TILE_CASE(4, 1); break;
                case 8: GK_TILE_CASE(3, 2); break;
                case 7: GK_TILE_CASE(3, 1); break;
                case 6: GK_TILE_CASE(2, 2); break;
                case 5: GK_TILE_CASE(2, 1); break;
                case 4: GK_TILE_CASE(1, 2); break;
                default: GK_TILE_CASE(1, 1); break;
                }
                ox += GK_LANES * nv;
            }
        }
    }
}

bool gk_conv3x3_f32(const float *x, ptrdiff_t c, ptrdiff_t h, ptrdiff_t w, const float *weights,
                    ptrdiff_t m, float *out, ptrdiff_t oh, ptrdiff_t ow, ptrdiff_t stride,
                    ptrdiff_t pad_top, ptrdiff_t pad_left, float *scratch) {
    if (gk_gemm_isa_in_effect() < 1 || (stride != 1 && stride != 2) || c < 1 || m < 1 || oh < 1 || ow < 1) return false;
    const ptrdiff_t ow8 = gk_round_up_lanes(ow);
    gk_pad_rows(x, c, h, w, oh, ow8, stride, pad_top, pad_left, scratch);
    gk_conv3x3_avx2(scratch, c, weights, m, out, oh, ow, ow8, stride);
    return true;
}

#else

bool gk_conv3x3_f32(const float *x, ptrdiff_t c, ptrdiff_t h, ptrdiff_t w, const float *weights,
                    ptrdiff_t m, float *out, ptrdiff_t oh, ptrdiff_t ow, ptrdiff_t stride,
                    ptrdiff_t pad_top, ptrdiff_t pad_left, float *scratch) {
    (void)x; (void)c; (void)h; (void)w; (void)weights; (void)m; (void)out; (void)oh; (void)ow;
    (void)stride; (void)pad_top; (void)pad_left; (void)scratch;
    return false;
}

#endif
