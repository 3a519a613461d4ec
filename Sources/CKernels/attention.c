// See ghost_attention.h. Tiles of R rows × NV vectors of 8 columns (the last masked when n is not
// a multiple of 8): per j, NV loads of V's row j, R broadcasts of P's column j, R·NV FMAs.
#include "ghost_attention.h"

#include <stdint.h>

#if defined(__x86_64__)
#include <immintrin.h>

#define GK_ATT_AVX2 __attribute__((target("avx2,fma")))

// Lane i of the mask is set when i < width (1 … 8).
GK_ATT_AVX2 static inline __m256i gk_att_mask(ptrdiff_t width) {
    const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)width), lanes);
}

GK_ATT_AVX2 static inline __attribute__((always_inline)) void gk_att_tile(
    const float *p, ptrdiff_t ldp, ptrdiff_t k, const float *v, ptrdiff_t ldv, float *out, ptrdiff_t ldo,
    const int R, const int NV, __m256i last) {
    __m256 acc[12][3];
    for (int r = 0; r < R; r++)
        for (int q = 0; q < NV; q++) acc[r][q] = _mm256_setzero_ps();
    for (ptrdiff_t j = 0; j < k; j++) {
        const float *vr = v + j * ldv;
        __m256 b[3];
        for (int q = 0; q < NV; q++) b[q] = q == NV - 1 ? _mm256_maskload_ps(vr + 8 * q, last) : _mm256_loadu_ps(vr + 8 * q);
        for (int r = 0; r < R; r++) {
            const __m256 a = _mm256_broadcast_ss(p + r * ldp + j);
            for (int q = 0; q < NV; q++) acc[r][q] = _mm256_fmadd_ps(a, b[q], acc[r][q]);
        }
    }
    for (int r = 0; r < R; r++)
        for (int q = 0; q < NV; q++) {
            float *o = out + r * ldo + 8 * q;
            if (q == NV - 1)
                _mm256_maskstore_ps(o, last, acc[r][q]);
            else
                _mm256_storeu_ps(o, acc[r][q]);
        }
}

// Each instance its own function, so its 12 accumulators stay in registers.
#define GK_ATT_TILE(R, NV)                                                                         \
    GK_ATT_AVX2 __attribute__((noinline)) static void gk_att_tile_##R##_##NV(                      \
        const float *p, ptrdiff_t ldp, ptrdiff_t k, const float *v, ptrdiff_t ldv, float *out,     \
        ptrdiff_t ldo, __m256i last) {                                                             \
        gk_att_tile(p, ldp, k, v, ldv, out, ldo, R, NV, last);                                     \
    }
GK_ATT_TILE(12, 1)
GK_ATT_TILE(6, 2)
GK_ATT_TILE(4, 3)
GK_ATT_TILE(1, 1)
GK_ATT_TILE(1, 2)
GK_ATT_TILE(1, 3)

bool gk_attention_narrow_available(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

GK_ATT_AVX2 static void gk_att_run(const float *p, ptrdiff_t ldp, ptrdiff_t rows, ptrdiff_t k, const float *v,
                                   ptrdiff_t ldv, ptrdiff_t n, float *out, ptrdiff_t ldo) {
    const int nv = (int)((n + 7) / 8);
    const __m256i last = gk_att_mask(n - 8 * (nv - 1));
    typedef void (*tile_fn)(const float *, ptrdiff_t, ptrdiff_t, const float *, ptrdiff_t, float *, ptrdiff_t, __m256i);
    static const tile_fn tiles[4] = {0, gk_att_tile_12_1, gk_att_tile_6_2, gk_att_tile_4_3};
    static const tile_fn singles[4] = {0, gk_att_tile_1_1, gk_att_tile_1_2, gk_att_tile_1_3};
    static const int tile_rows[4] = {0, 12, 6, 4};
    const int R = tile_rows[nv];
    ptrdiff_t r = 0;
    for (; r + R <= rows; r += R) tiles[nv](p + r * ldp, ldp, k, v, ldv, out + r * ldo, ldo, last);
    for (; r < rows; r++) singles[nv](p + r * ldp, ldp, k, v, ldv, out + r * ldo, ldo, last);
}

void gk_attention_narrow_f32(const float *p, ptrdiff_t ldp, ptrdiff_t rows, ptrdiff_t k, const float *v,
                             ptrdiff_t ldv, ptrdiff_t n, float *out, ptrdiff_t ldo) {
    if (rows < 1 || k < 1 || n < 1 || n > 24 || !gk_attention_narrow_available()) return;
    gk_att_run(p, ldp, rows, k, v, ldv, n, out, ldo);
}

#else

bool gk_attention_narrow_available(void) { return false; }

void gk_attention_narrow_f32(const float *p, ptrdiff_t ldp, ptrdiff_t rows, ptrdiff_t k, const float *v,
                             ptrdiff_t ldv, ptrdiff_t n, float *out, ptrdiff_t ldo) {
    (void)p, (void)ldp, (void)rows, (void)k, (void)v, (void)ldv, (void)n, (void)out, (void)ldo;
}

#endif
