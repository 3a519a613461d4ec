// See ghost_gemm.h: the float64 twin of gemm.c, same packed layout (panels of GK_MR = 8 rows,
// panel[k·8 + r]) and same rounding contract (each element a k-ordered chain of FMAs from +0).
//
// A vector holds half as many doubles as floats, so the tiles are half as wide in columns with
// the same register budget:
//   AVX-512: 8 rows × 24 columns (3 zmm of 8 doubles per row, 24 accumulators), masked last vector,
//   AVX2:    4 rows × 12 columns (3 ymm of 4 doubles per row, 12 accumulators), on each half panel.
// Columns are swept in strips (24 or 12 wide) in the outer loop and panels in the inner loop, so a
// strip of B is reused from cache by every panel; the last panel of a strip prefetches the next
// strip (the same bytes ahead as the float32 kernels: a strip is as many bytes wide). Whole
// vectors (8 or 4 columns) follow, then on AVX-512 a masked vector when at least
// GK_COL_THRESHOLD_512_F64 columns are left, and the last columns go to a column kernel that loads
// 4 rows of A as a vector and broadcasts B (49 = 2·24 + 1 wastes no lanes). Both CPUs share the
// column kernel; since every path sums an element in the same order with FMAs, AVX2 and AVX-512
// agree bit for bit.
#include "gemm_isa.h"
#include "ghost_gemm.h"

#include <stdint.h>
#include <string.h>

#define GK_MR 8

void gk_gemm_pack_a_f64(const double *a, int lda, int m, int k, double *packed) {
    if (m <= 0 || k <= 0) return;
    const int panels = (m + GK_MR - 1) / GK_MR;
    for (int p = 0; p < panels; p++) {
        double *dst = packed + (size_t)p * GK_MR * (size_t)k;
        for (int r = 0; r < GK_MR; r++) {
            const int row = p * GK_MR + r;
            if (row < m) {
                const double *src = a + (size_t)row * (size_t)lda;
                for (int kk = 0; kk < k; kk++) dst[(size_t)kk * GK_MR + r] = src[kk];
            } else {
                for (int kk = 0; kk < k; kk++) dst[(size_t)kk * GK_MR + r] = 0.0;
            }
        }
    }
}

// Portable fallback (no kernel on this CPU); callers are expected to use BLAS instead.
static void dgemm_scalar(const double *packed, int m, int k, const double *b, size_t ldb, int n,
                         double *c, size_t ldc) {
#if defined(__clang__)
#pragma clang fp contract(off)
#endif
    for (int i = 0; i < m; i++) {
        const double *panel = packed + (size_t)(i / GK_MR) * GK_MR * (size_t)k;
        const int r = i % GK_MR;
        double *crow = c + (size_t)i * ldc;
        for (int j = 0; j < n; j++) crow[j] = 0.0;
        for (int kk = 0; kk < k; kk++) {
            const double a = panel[(size_t)kk * GK_MR + r];
            const double *brow = b + (size_t)kk * ldb;
            for (int j = 0; j < n; j++) crow[j] = crow[j] + a * brow[j];
        }
    }
}

static void dgemm_zero(int m, int n, double *c, size_t ldc) {
    for (int i = 0; i < m; i++) memset(c + (size_t)i * ldc, 0, (size_t)n * sizeof(double));
}

#if defined(__x86_64__)
#include <immintrin.h>

#define GK_INLINE static inline __attribute__((always_inline))
// One function per microkernel instance, so its register allocation does not depend on the caller.
#define GK_NOINLINE static __attribute__((noinline))
#define GK_AVX2 __attribute__((target("avx2,fma")))
#define GK_AVX512 __attribute__((target("avx512f,avx2,fma")))

// AVX-512: a remainder of fewer than this many columns (after whole vectors) goes to the column
// kernel; a wider one gets a masked vector (half a vector or more, as for float32).
#ifndef GK_COL_THRESHOLD_512_F64
#define GK_COL_THRESHOLD_512_F64 4
#endif
#define GK_PF_ALL_PANELS_K 64

// The address `doubles` doubles after p, for a prefetch hint: computed as an integer, because it
// may lie past the end of B (no pointer arithmetic outside the object).
GK_INLINE const char *gk_ahead_f64(const double *p, size_t doubles) {
    return (const char *)((uintptr_t)p + doubles * sizeof(double));
}

// ---------------------------------------------------------------------------------------------
// Column kernel (AVX2; also used by the AVX-512 path): G groups of 4 rows × NC columns, starting
// at group g0 (rows 4·g0 …; group g is half g % 2 of panel g / 2). acc[g][q] holds
// C[4g .. 4g+3][j+q]; per k: G vector loads of A, NC broadcasts of B. `rows` = valid rows counted
// from the first group's first row.
GK_INLINE GK_AVX2 void dcol_tile(const double *restrict pa, size_t pstride, int g0,
                                 const double *restrict b, size_t ldb, double *restrict c,
                                 size_t ldc, int k, const int G, const int NC, int rows,
                                 int accumulate) {
    const double *ag[6];
    for (int g = 0; g < G; g++) {
        const int group = g0 + g;
        ag[g] = pa + (size_t)(group / 2) * pstride + (size_t)(group % 2) * 4;
    }
    __m256d acc[6][4];
    for (int g = 0; g < G; g++) {
        for (int q = 0; q < NC; q++) {
            double tmp[4] = {0, 0, 0, 0};
            for (int r = 0; accumulate && r < 4; r++)
                if (g * 4 + r < rows) tmp[r] = c[(size_t)(g * 4 + r) * ldc + q];
            acc[g][q] = _mm256_loadu_pd(tmp);
        }
    }
    for (int kk = 0; kk < k; kk++) {
        const double *br = b + (size_t)kk * ldb;
        __m256d bc[4];
        for (int q = 0; q < NC; q++) bc[q] = _mm256_broadcast_sd(br + q);
        for (int g = 0; g < G; g++) {
            const __m256d av = _mm256_loadu_pd(ag[g] + (size_t)kk * GK_MR);
            for (int q = 0; q < NC; q++) acc[g][q] = _mm256_fmadd_pd(av, bc[q], acc[g][q]);
        }
    }
    for (int g = 0; g < G; g++) {
        for (int q = 0; q < NC; q++) {
            double tmp[4];
            _mm256_storeu_pd(tmp, acc[g][q]);
            for (int r = 0; r < 4; r++) {
                const int row = g * 4 + r;
                if (row < rows) c[(size_t)row * ldc + q] = tmp[r];
            }
        }
    }
}

// (G, NC) pairs whose G·NC accumulators + NC broadcasts + 1 vector of A fit in 16 registers.
#define DCOL_FN(G, NC)                                                                             \
    GK_NOINLINE GK_AVX2 void dcol_tile_##G##_##NC(const double *pa, size_t pstride, int g0,        \
                                                  const double *b, size_t ldb, double *c,          \
                                                  size_t ldc, int k, int rows, int accumulate) {   \
        dcol_tile(pa, pstride, g0, b, ldb, c, ldc, k, G, NC, rows, accumulate);                    \
    }
DCOL_FN(1, 1) DCOL_FN(2, 1) DCOL_FN(3, 1) DCOL_FN(4, 1) DCOL_FN(5, 1) DCOL_FN(6, 1)
DCOL_FN(1, 2) DCOL_FN(2, 2) DCOL_FN(3, 2) DCOL_FN(4, 2)
DCOL_FN(1, 3) DCOL_FN(2, 3) DCOL_FN(3, 3)
DCOL_FN(1, 4) DCOL_FN(2, 4)
#undef DCOL_FN

typedef void (*dcol_fn)(const double *, size_t, int, const double *, size_t, double *, size_t, int,
                        int, int);
static const dcol_fn dcol_table[5][7] = {
    {0},
    {0, dcol_tile_1_1, dcol_tile_2_1, dcol_tile_3_1, dcol_tile_4_1, dcol_tile_5_1, dcol_tile_6_1},
    {0, dcol_tile_1_2, dcol_tile_2_2, dcol_tile_3_2, dcol_tile_4_2, 0, 0},
    {0, dcol_tile_1_3, dcol_tile_2_3, dcol_tile_3_3, 0, 0, 0},
    {0, dcol_tile_1_4, dcol_tile_2_4, 0, 0, 0, 0},
};
static const int dcol_max_groups[5] = {0, 6, 4, 3, 2};

// Columns j0 ..< n of C, all rows.
static GK_AVX2 void dcol_block(const double *pa, int m, int k, size_t pstride, int accumulate,
                               const double *b, size_t ldb, int j0, int n, double *c, size_t ldc) {
    const int groups = (m + 3) / 4;
    for (int j = j0; j < n;) {
        const int left = n - j;
        const int nc = left >= 4 ? 4 : left;
        for (int g = 0; g < groups;) {
            int ng = groups - g;
            if (ng > dcol_max_groups[nc]) ng = dcol_max_groups[nc];
            dcol_table[nc][ng](pa, pstride, g, b + j, ldb, c + (size_t)g * 4 * ldc + j, ldc, k,
                               m - g * 4, accumulate);
            g += ng;
        }
        j += nc;
    }
}

// ---------------------------------------------------------------------------------------------
// AVX-512 row kernel: 8 rows × NV·8 columns; the last vector is masked when MASKED. With PF it
// also prefetches the same rows of B for the next 24 columns (see gemm.c's row_tile512 for when).
GK_INLINE GK_AVX512 void drow_tile512(const double *restrict pa, const double *restrict b,
                                      size_t ldb, double *restrict c, size_t ldc, int k,
                                      const int NV, const int MASKED, const int PF, __mmask8 mask,
                                      int rows, int accumulate) {
    __m512d acc[GK_MR][3];
    for (int r = 0; r < GK_MR; r++) {
        for (int v = 0; v < NV; v++) {
            if (!accumulate || r >= rows)  // rows past m have no C to read
                acc[r][v] = _mm512_setzero_pd();
            else if (MASKED && v == NV - 1)
                acc[r][v] = _mm512_maskz_loadu_pd(mask, c + (size_t)r * ldc + 8 * v);
            else
                acc[r][v] = _mm512_loadu_pd(c + (size_t)r * ldc + 8 * v);
        }
    }
    for (int kk = 0; kk < k; kk++) {
        const double *br = b + (size_t)kk * ldb;
        __m512d bv[3];
        for (int v = 0; v < NV; v++) {
            if (MASKED && v == NV - 1)
                bv[v] = _mm512_maskz_loadu_pd(mask, br + 8 * v);
            else
                bv[v] = _mm512_loadu_pd(br + 8 * v);
        }
        if (PF) { // a hint: prefetches never fault, even past the end of B
            _mm_prefetch(gk_ahead_f64(br, 24), _MM_HINT_T0);
            _mm_prefetch(gk_ahead_f64(br, 32), _MM_HINT_T0);
            _mm_prefetch(gk_ahead_f64(br, 40), _MM_HINT_T0);
        }
        const double *ak = pa + (size_t)kk * GK_MR;
        for (int r = 0; r < GK_MR; r++) {
            const __m512d ar = _mm512_set1_pd(ak[r]);
            for (int v = 0; v < NV; v++) acc[r][v] = _mm512_fmadd_pd(ar, bv[v], acc[r][v]);
        }
    }
    for (int r = 0; r < GK_MR; r++) {
        if (r >= rows) break;
        double *cr = c + (size_t)r * ldc;
        for (int v = 0; v < NV; v++) {
            if (MASKED && v == NV - 1)
                _mm512_mask_storeu_pd(cr + 8 * v, mask, acc[r][v]);
            else
                _mm512_storeu_pd(cr + 8 * v, acc[r][v]);
        }
    }
}

#define DROW512_FN(NAME, NV, MASKED, PF)                                                           \
    GK_NOINLINE GK_AVX512 void NAME(const double *pa, const double *b, size_t ldb, double *c,      \
                                    size_t ldc, int k, __mmask8 mask, int rows, int accumulate) {  \
        drow_tile512(pa, b, ldb, c, ldc, k, NV, MASKED, PF, mask, rows, accumulate);               \
    }
DROW512_FN(drow512_3_pf, 3, 0, 1)
DROW512_FN(drow512_3_0, 3, 0, 0) DROW512_FN(drow512_2_0, 2, 0, 0) DROW512_FN(drow512_1_0, 1, 0, 0)
DROW512_FN(drow512_3_1, 3, 1, 0) DROW512_FN(drow512_2_1, 2, 1, 0) DROW512_FN(drow512_1_1, 1, 1, 0)
#undef DROW512_FN

typedef void (*drow512_fn)(const double *, const double *, size_t, double *, size_t, int, __mmask8,
                           int, int);

static GK_AVX512 void dgemm_avx512(const double *pa, int m, int k, size_t pstride, int accumulate,
                                   const double *b, size_t ldb, int n, double *c, size_t ldc) {
    const int panels = (m + GK_MR - 1) / GK_MR;
    int j = 0;
    for (; j + 24 <= n; j += 24) {
        for (int p = 0; p < panels; p++) {
            const bool pf = j + 24 < n && (p == panels - 1 || k <= GK_PF_ALL_PANELS_K);
            const drow512_fn fn = pf ? drow512_3_pf : drow512_3_0;
            fn(pa + (size_t)p * pstride, b + j, ldb, c + (size_t)p * GK_MR * ldc + j, ldc, k, 0xFF,
               m - p * GK_MR, accumulate);
        }
    }
    const int left = n - j;
    if (left == 0) return;
    int nv = left / 8;
    const int tail = left % 8;
    int masked = 0;
    __mmask8 mask = 0xFF;
    if (tail >= GK_COL_THRESHOLD_512_F64) {
        nv++;
        masked = 1;
        mask = (__mmask8)((1u << tail) - 1u);
    }
    if (nv > 0) {
        static const drow512_fn table[4][2] = {{0, 0},
                                               {drow512_1_0, drow512_1_1},
                                               {drow512_2_0, drow512_2_1},
                                               {drow512_3_0, drow512_3_1}};
        const drow512_fn fn = table[nv][masked];
        for (int p = 0; p < panels; p++)
            fn(pa + (size_t)p * pstride, b + j, ldb, c + (size_t)p * GK_MR * ldc + j, ldc, k, mask,
               m - p * GK_MR, accumulate);
        j = masked ? n : j + nv * 8;
    }
    if (j < n) dcol_block(pa, m, k, pstride, accumulate, b, ldb, j, n, c, ldc);
}

// ---------------------------------------------------------------------------------------------
// AVX2 row kernel: 4 rows × NV·4 columns, for the half of a panel whose first element is at `pa`.
// PF: prefetch the next 12 columns, as in drow_tile512.
GK_INLINE GK_AVX2 void drow_tile256(const double *restrict pa, const double *restrict b,
                                    size_t ldb, double *restrict c, size_t ldc, int k,
                                    const int NV, const int PF, int rows, const int ACC) {
    __m256d acc[4][3];
    for (int r = 0; r < 4; r++) {
        // Rows past m have no C: they load the last valid row instead (never stored back).
        const size_t row = (size_t)(r < rows ? r : rows - 1);
        for (int v = 0; v < NV; v++)
            acc[r][v] = ACC ? _mm256_loadu_pd(c + row * ldc + 4 * v) : _mm256_setzero_pd();
    }
    for (int kk = 0; kk < k; kk++) {
        const double *br = b + (size_t)kk * ldb;
        __m256d bv[3];
        for (int v = 0; v < NV; v++) bv[v] = _mm256_loadu_pd(br + 4 * v);
        if (PF) {
            _mm_prefetch(gk_ahead_f64(br, 12), _MM_HINT_T0);
            _mm_prefetch(gk_ahead_f64(br, 20), _MM_HINT_T0);
        }
        const double *ak = pa + (size_t)kk * GK_MR;
        for (int r = 0; r < 4; r++) {
            const __m256d ar = _mm256_broadcast_sd(ak + r);
            for (int v = 0; v < NV; v++) acc[r][v] = _mm256_fmadd_pd(ar, bv[v], acc[r][v]);
            // All 16 registers are taken; this empty asm keeps the next row's broadcast after
            // this row's FMAs, so clang does not spill an accumulator (see gemm.c's row_tile256).
            if (NV == 3) __asm__("" : "+r"(ak) : "x"(acc[r][0]), "x"(acc[r][1]), "x"(acc[r][2]));
        }
    }
    for (int r = 0; r < 4; r++) {
        if (r >= rows) break;
        double *cr = c + (size_t)r * ldc;
        for (int v = 0; v < NV; v++) _mm256_storeu_pd(cr + 4 * v, acc[r][v]);
    }
}

// ACC (start from C, for a k block after the first) is a compile-time constant: as a run-time
// flag it kept the 12 accumulators in memory around the loop (gemm.c's row_tile256 has the same).
#define DROW256_FN(NAME, NV, PF, ACC)                                                              \
    GK_NOINLINE GK_AVX2 void NAME##_##ACC(const double *pa, const double *b, size_t ldb,           \
                                          double *c, size_t ldc, int k, int rows) {                \
        drow_tile256(pa, b, ldb, c, ldc, k, NV, PF, rows, ACC);                                    \
    }
#define DROW256_FNS(ACC)                                                                           \
    DROW256_FN(drow256_3_pf, 3, 1, ACC) DROW256_FN(drow256_3, 3, 0, ACC)                           \
    DROW256_FN(drow256_2, 2, 0, ACC) DROW256_FN(drow256_1, 1, 0, ACC)
DROW256_FNS(0)
DROW256_FNS(1)
#undef DROW256_FNS
#undef DROW256_FN

typedef void (*drow256_fn)(const double *, const double *, size_t, double *, size_t, int, int);
// [ACC][nv], with [ACC][0] the 3-vector kernel with the prefetch.
static const drow256_fn drow256_table[2][4] = {
    {drow256_3_pf_0, drow256_1_0, drow256_2_0, drow256_3_0},
    {drow256_3_pf_1, drow256_1_1, drow256_2_1, drow256_3_1},
};

// Columns j ..< j + 4·nv of every panel (two 4-row halves per panel; the second is skipped when
// it has no valid rows), with `fn`, or `last` on the last panel.
static GK_AVX2 void drow256_cols(drow256_fn fn, drow256_fn last, const double *pa, int m, int k,
                                 size_t pstride, const double *b, size_t ldb, int j, double *c,
                                 size_t ldc) {
    const int panels = (m + GK_MR - 1) / GK_MR;
    for (int p = 0; p < panels; p++) {
        const double *panel = pa + (size_t)p * pstride;
        double *cp = c + (size_t)p * GK_MR * ldc + j;
        const int rows = m - p * GK_MR;
        const drow256_fn f = p == panels - 1 ? last : fn;
        f(panel, b + j, ldb, cp, ldc, k, rows);
        if (rows > 4) f(panel + 4, b + j, ldb, cp + 4 * ldc, ldc, k, rows - 4);
    }
}

static GK_AVX2 void dgemm_avx2(const double *pa, int m, int k, size_t pstride, int accumulate,
                               const double *b, size_t ldb, int n, double *c, size_t ldc) {
    const drow256_fn *table = drow256_table[accumulate != 0];
    int j = 0;
    for (; j + 12 <= n; j += 12) {
        const drow256_fn last = j + 12 < n ? table[0] : table[3];
        drow256_cols(k <= GK_PF_ALL_PANELS_K ? last : table[3], last, pa, m, k, pstride, b, ldb, j,
                     c, ldc);
    }
    const int nv = (n - j) / 4;
    if (nv > 0) {
        const drow256_fn fn = table[nv];
        drow256_cols(fn, fn, pa, m, k, pstride, b, ldb, j, c, ldc);
        j += 4 * nv;
    }
    if (j < n) dcol_block(pa, m, k, pstride, accumulate, b, ldb, j, n, c, ldc);
}

// Blocking, which changes no sum (so no bit): rows are taken in blocks of whole panels whose
// packed A fits in GK_A_BLOCK_BYTES_F64, each swept over all columns before the next, so a large A
// (160 × 960 doubles is 1.2 MB) is not streamed from L3 once per strip; and k in blocks of at most
// GK_K_BLOCK_F64 (64 measured best of 64, 128 and none), so that a strip of B rows (96 bytes a
// row, up to three cache lines) and a half panel of A stay in L1 while every panel reads them. A block after the
// first continues each element's chain from the value in C (loaded, not added: acc starts as C),
// so an element is still the one k-ordered chain of FMAs from +0.
#ifndef GK_A_BLOCK_BYTES_F64
#define GK_A_BLOCK_BYTES_F64 (192 * 1024)
#endif
#ifndef GK_K_BLOCK_F64
#define GK_K_BLOCK_F64 64
#endif

typedef void (*dgemm_fn)(const double *, int, int, size_t, int, const double *, size_t, int,
                         double *, size_t);

static void dgemm_blocked(dgemm_fn kernel, const double *pa, int m, int k, const double *b,
                          size_t ldb, int n, double *c, size_t ldc) {
    const size_t pstride = (size_t)GK_MR * (size_t)k;
    const int k_blocks = (k + GK_K_BLOCK_F64 - 1) / GK_K_BLOCK_F64;
    const int k_step = (k + k_blocks - 1) / k_blocks; // balanced: 160 = 3 · 54 (less the last), not 64 + 64 + 32
    const int k_used = k_step < k ? k_step : k;
    size_t per_block = GK_A_BLOCK_BYTES_F64 / ((size_t)GK_MR * (size_t)k_used * sizeof(double));
    if (per_block < 1) per_block = 1;
    const int block_rows = per_block * GK_MR >= (size_t)m ? m : (int)(per_block * GK_MR);
    for (int row = 0; row < m; row += block_rows) {
        const int rows = m - row < block_rows ? m - row : block_rows;
        const double *block = pa + (size_t)(row / GK_MR) * pstride;
        for (int k0 = 0; k0 < k; k0 += k_step) {
            const int kb = k - k0 < k_step ? k - k0 : k_step;
            kernel(block + (size_t)k0 * GK_MR, rows, kb, pstride, k0 > 0, b + (size_t)k0 * ldb, ldb,
                   n, c + (size_t)row * ldc, ldc);
        }
    }
}

#endif

void gk_gemm_packed_f64(const double *packed, int m, int k, const double *b, int ldb, int n,
                        double *c, int ldc) {
    if (m <= 0 || n <= 0) return;
    if (k <= 0) {
        dgemm_zero(m, n, c, (size_t)ldc);
        return;
    }
    switch (gk_gemm_isa_in_effect()) {
#if defined(__x86_64__)
    case 2: dgemm_blocked(dgemm_avx512, packed, m, k, b, (size_t)ldb, n, c, (size_t)ldc); break;
    case 1: dgemm_blocked(dgemm_avx2, packed, m, k, b, (size_t)ldb, n, c, (size_t)ldc); break;
#endif
    default: dgemm_scalar(packed, m, k, b, (size_t)ldb, n, c, (size_t)ldc); break;
    }
}
