// See ghost_gemm.h.
//
// Design. A is packed in panels of GK_MR = 8 rows, interleaved per k (panel[k·8 + r]), the same
// layout for both kernels; B is read in place, except where that measured slower (rows 4 KB
// apart, or k > 1024: see gemm_blocked), where it is copied in chunks. The main microkernels broadcast A and load B as vectors ("row"
// kernels):
//   AVX-512: 8 rows × 48 columns (3 zmm per row, 24 accumulators),
//   AVX2:    4 rows × 24 columns (3 ymm per row, 12 accumulators), run on each half of a panel.
// Each runs over its k range: the whole K for a shallow product (a C tile written once, never
// read), a block of k for a deep one (later blocks start from C). Columns are swept
// in strips (48 or 24 wide) in the outer loop and panels in the inner loop, so a strip of B is
// reused from cache by every panel and A (small) stays in L1/L2; on a strip's last panel the
// kernel prefetches the same rows of the next strip. After the whole strips come whole vectors
// (16 or 8 columns), then, on AVX-512, one masked vector if at least GK_COL_THRESHOLD_512 columns
// are left; the last few columns go to a "column" kernel that loads 8 rows of A as a vector and broadcasts elements of
// B, which wastes no lanes on a narrow remainder (n = 49 = 3·16 + 1, n = 196 = 4·48 + 4, n = 1).
// Every kernel accumulates each element in the same order with FMAs from +0, so all paths (and
// both CPUs) agree bit for bit.
#include "ghost_gemm.h"
#include "gemm_isa.h"

#include <stdint.h>
#include <string.h>

#define GK_MR 8

size_t gk_gemm_packed_count(int m, int k) {
    if (m <= 0 || k <= 0) return 0;
    return (size_t)((m + GK_MR - 1) / GK_MR) * GK_MR * (size_t)k;
}

void gk_gemm_pack_a(const float *a, int lda, int m, int k, float *packed) {
    if (m <= 0 || k <= 0) return;
    const int panels = (m + GK_MR - 1) / GK_MR;
    for (int p = 0; p < panels; p++) {
        float *dst = packed + (size_t)p * GK_MR * (size_t)k;
        for (int r = 0; r < GK_MR; r++) {
            const int row = p * GK_MR + r;
            if (row < m) {
                const float *src = a + (size_t)row * (size_t)lda;
                for (int kk = 0; kk < k; kk++) dst[(size_t)kk * GK_MR + r] = src[kk];
            } else {
                for (int kk = 0; kk < k; kk++) dst[(size_t)kk * GK_MR + r] = 0.0f;
            }
        }
    }
}

// Portable fallback (no kernel on this CPU); callers are expected to use BLAS instead.
static void gemm_scalar(const float *packed, int m, int k, const float *b, size_t ldb, int n,
                        float *c, size_t ldc) {
#if defined(__clang__)
#pragma clang fp contract(off)
#endif
    for (int i = 0; i < m; i++) {
        const float *panel = packed + (size_t)(i / GK_MR) * GK_MR * (size_t)k;
        const int r = i % GK_MR;
        float *crow = c + (size_t)i * ldc;
        for (int j = 0; j < n; j++) crow[j] = 0.0f;
        for (int kk = 0; kk < k; kk++) {
            const float a = panel[(size_t)kk * GK_MR + r];
            const float *brow = b + (size_t)kk * ldb;
            for (int j = 0; j < n; j++) crow[j] = crow[j] + a * brow[j];
        }
    }
}

static void gemm_zero(int m, int n, float *c, size_t ldc) {
    for (int i = 0; i < m; i++) memset(c + (size_t)i * ldc, 0, (size_t)n * sizeof(float));
}

#if defined(__x86_64__)
#include <immintrin.h>

#define GK_INLINE static inline __attribute__((always_inline))
// Each microkernel instance stays a function of its own, so its register allocation does not
// depend on the code around the call.
#define GK_NOINLINE static __attribute__((noinline))
#define GK_AVX2 __attribute__((target("avx2,fma")))
#define GK_AVX512 __attribute__((target("avx512f,avx2,fma")))

// AVX-512: a remainder of fewer than this many columns (after whole vectors) goes to the column
// kernel; a wider one gets a masked vector.
#ifndef GK_COL_THRESHOLD_512
#define GK_COL_THRESHOLD_512 8
#endif
#define GK_PF_ALL_PANELS_K 64

// The address `floats` floats after p, for a prefetch hint: computed as an integer, because it may
// lie past the end of B (no pointer arithmetic outside the object).
GK_INLINE const char *gk_ahead(const float *p, size_t floats) {
    return (const char *)((uintptr_t)p + floats * sizeof(float));
}

// ---------------------------------------------------------------------------------------------
// Column kernel (AVX2; also used by the AVX-512 path): P panels (8·P rows) × NC columns.
// acc[p][c] holds C[8p .. 8p+7][j+c]; per k: P vector loads of A, NC broadcasts of B.
// `rows` = valid rows counted from the first panel's first row (may be less than 8·P).
GK_INLINE GK_AVX2 void col_tile(const float *restrict pa, size_t pstride, const float *restrict b,
                                size_t ldb, float *restrict c, size_t ldc, int k, const int P,
                                const int NC, int rows, const int ACC) {
    __m256 acc[6][4];
    for (int p = 0; p < P; p++) {
        for (int q = 0; q < NC; q++) {
            if (!ACC) {
                acc[p][q] = _mm256_setzero_ps();
                continue;
            }
            float tmp[8] = {0, 0, 0, 0, 0, 0, 0, 0};
            for (int r = 0; r < GK_MR; r++)
                if (p * GK_MR + r < rows) tmp[r] = c[(size_t)(p * GK_MR + r) * ldc + q];
            acc[p][q] = _mm256_loadu_ps(tmp);
        }
    }
    for (int kk = 0; kk < k; kk++) {
        const float *br = b + (size_t)kk * ldb;
        __m256 bc[4];
        for (int q = 0; q < NC; q++) bc[q] = _mm256_broadcast_ss(br + q);
        for (int p = 0; p < P; p++) {
            const __m256 av = _mm256_loadu_ps(pa + (size_t)p * pstride + (size_t)kk * GK_MR);
            for (int q = 0; q < NC; q++) acc[p][q] = _mm256_fmadd_ps(av, bc[q], acc[p][q]);
        }
    }
    for (int p = 0; p < P; p++) {
        for (int q = 0; q < NC; q++) {
            float tmp[8];
            _mm256_storeu_ps(tmp, acc[p][q]);
            for (int r = 0; r < GK_MR; r++) {
                const int row = p * GK_MR + r;
                if (row < rows) c[(size_t)row * ldc + q] = tmp[r];
            }
        }
    }
}

// The (P, NC) pairs used (P·NC accumulators + NC broadcasts + 1 vector of A fit in 16 registers):
// NC = 4 with P ≤ 2, NC = 3 with P ≤ 3, NC = 2 with P ≤ 4, NC = 1 with P ≤ 6. ACC (start from C,
// for a k block after the first) is a compile-time constant like P and NC: as a run-time flag
// the accumulators' two possible starts kept them in memory around the loop (12 stores and loads
// a call), which cost the shallow products of GhostNet's 1×1s 5–35%.
#define COL_FN(P, NC, ACC)                                                                         \
    GK_NOINLINE GK_AVX2 void col_tile_##P##_##NC##_##ACC(const float *pa, size_t pstride,          \
                                                         const float *b, size_t ldb, float *c,     \
                                                         size_t ldc, int k, int rows) {            \
        col_tile(pa, pstride, b, ldb, c, ldc, k, P, NC, rows, ACC);                                \
    }
#define COL_FNS(ACC)                                                                               \
    COL_FN(1, 1, ACC) COL_FN(2, 1, ACC) COL_FN(3, 1, ACC) COL_FN(4, 1, ACC) COL_FN(5, 1, ACC)      \
    COL_FN(6, 1, ACC) COL_FN(1, 2, ACC) COL_FN(2, 2, ACC) COL_FN(3, 2, ACC) COL_FN(4, 2, ACC)      \
    COL_FN(1, 3, ACC) COL_FN(2, 3, ACC) COL_FN(3, 3, ACC) COL_FN(1, 4, ACC) COL_FN(2, 4, ACC)
COL_FNS(0)
COL_FNS(1)
#undef COL_FNS
#undef COL_FN

typedef void (*col_fn)(const float *, size_t, const float *, size_t, float *, size_t, int, int);
#define COL_ROWS(ACC)                                                                              \
    {                                                                                              \
        {0},                                                                                       \
        {0, col_tile_1_1_##ACC, col_tile_2_1_##ACC, col_tile_3_1_##ACC, col_tile_4_1_##ACC,        \
         col_tile_5_1_##ACC, col_tile_6_1_##ACC},                                                  \
        {0, col_tile_1_2_##ACC, col_tile_2_2_##ACC, col_tile_3_2_##ACC, col_tile_4_2_##ACC, 0, 0}, \
        {0, col_tile_1_3_##ACC, col_tile_2_3_##ACC, col_tile_3_3_##ACC, 0, 0, 0},                  \
        {0, col_tile_1_4_##ACC, col_tile_2_4_##ACC, 0, 0, 0, 0},                                   \
    }
static const col_fn col_table[2][5][7] = {COL_ROWS(0), COL_ROWS(1)};
#undef COL_ROWS
static const int col_max_panels[5] = {0, 6, 4, 3, 2};

// Columns j0 ..< n of C, all rows.
static GK_AVX2 void col_block(const float *pa, int m, int k, size_t pstride, int accumulate,
                              const float *b, size_t ldb, int j0, int n, float *c, size_t ldc) {
    const int panels = (m + GK_MR - 1) / GK_MR;
    int j = j0;
    while (j < n) {
        const int left = n - j;
        const int nc = left >= 4 ? 4 : left;
        for (int p = 0; p < panels;) {
            int np = panels - p;
            if (np > col_max_panels[nc]) np = col_max_panels[nc];
            col_table[accumulate != 0][nc][np](pa + (size_t)p * pstride, pstride, b + j, ldb,
                                               c + (size_t)p * GK_MR * ldc + j, ldc, k,
                                               m - p * GK_MR);
            p += np;
        }
        j += nc;
    }
}

// ---------------------------------------------------------------------------------------------
// AVX-512 row kernel: 8 rows × NV·16 columns; the last vector is masked when MASKED. With PF it
// also prefetches the same rows of B for the next 48 columns: used on a strip's last panel, so the
// next strip is in L1 when its first panel starts (helps when B comes from memory: large n, small
// k), and on every panel when k ≤ GK_PF_ALL_PANELS_K (both strips then fit in L1 together; with
// a larger k that would evict the current strip).
GK_INLINE GK_AVX512 void row_tile512(const float *restrict pa, const float *restrict b, size_t ldb,
                                     float *restrict c, size_t ldc, int k, const int NV,
                                     const int MASKED, const int PF, __mmask16 mask, int rows,
                                     const int ACC) {
    __m512 acc[GK_MR][3];
    for (int r = 0; r < GK_MR; r++) {
        for (int v = 0; v < NV; v++) {
            if (!ACC || r >= rows)  // rows past m have no C to read
                acc[r][v] = _mm512_setzero_ps();
            else if (MASKED && v == NV - 1)
                acc[r][v] = _mm512_maskz_loadu_ps(mask, c + (size_t)r * ldc + 16 * v);
            else
                acc[r][v] = _mm512_loadu_ps(c + (size_t)r * ldc + 16 * v);
        }
    }
    for (int kk = 0; kk < k; kk++) {
        const float *br = b + (size_t)kk * ldb;
        __m512 bv[3];
        for (int v = 0; v < NV; v++) {
            if (MASKED && v == NV - 1)
                bv[v] = _mm512_maskz_loadu_ps(mask, br + 16 * v);
            else
                bv[v] = _mm512_loadu_ps(br + 16 * v);
        }
        if (PF) { // a hint: prefetches never fault, even past the end of B
            _mm_prefetch(gk_ahead(br, 48), _MM_HINT_T0);
            _mm_prefetch(gk_ahead(br, 64), _MM_HINT_T0);
            _mm_prefetch(gk_ahead(br, 80), _MM_HINT_T0);
        }
        const float *ak = pa + (size_t)kk * GK_MR;
        for (int r = 0; r < GK_MR; r++) {
            const __m512 ar = _mm512_set1_ps(ak[r]);
            for (int v = 0; v < NV; v++) acc[r][v] = _mm512_fmadd_ps(ar, bv[v], acc[r][v]);
        }
    }
    for (int r = 0; r < GK_MR; r++) {
        if (r >= rows) break;
        float *cr = c + (size_t)r * ldc;
        for (int v = 0; v < NV; v++) {
            if (MASKED && v == NV - 1)
                _mm512_mask_storeu_ps(cr + 16 * v, mask, acc[r][v]);
            else
                _mm512_storeu_ps(cr + 16 * v, acc[r][v]);
        }
    }
}

// ACC: start from C (a k block after the first), a compile-time constant as in the column kernel.
#define ROW512_FN(NAME, NV, MASKED, PF, ACC)                                                       \
    GK_NOINLINE GK_AVX512 void NAME##_##ACC(const float *pa, const float *b, size_t ldb, float *c, \
                                            size_t ldc, int k, __mmask16 mask, int rows) {         \
        row_tile512(pa, b, ldb, c, ldc, k, NV, MASKED, PF, mask, rows, ACC);                       \
    }
#define ROW512_FNS(ACC)                                                                            \
    ROW512_FN(row512_3_pf, 3, 0, 1, ACC)                                                           \
    ROW512_FN(row512_3_0, 3, 0, 0, ACC) ROW512_FN(row512_2_0, 2, 0, 0, ACC)                        \
    ROW512_FN(row512_1_0, 1, 0, 0, ACC) ROW512_FN(row512_3_1, 3, 1, 0, ACC)                        \
    ROW512_FN(row512_2_1, 2, 1, 0, ACC) ROW512_FN(row512_1_1, 1, 1, 0, ACC)
ROW512_FNS(0)
ROW512_FNS(1)
#undef ROW512_FNS
#undef ROW512_FN

typedef void (*row512_fn)(const float *, const float *, size_t, float *, size_t, int, __mmask16,
                          int);
// [ACC][nv][masked]; [ACC][0][0] is the 3-vector kernel with the prefetch.
#define ROW512_SET(ACC)                                                                            \
    {                                                                                              \
        {row512_3_pf_##ACC, 0}, {row512_1_0_##ACC, row512_1_1_##ACC},                              \
            {row512_2_0_##ACC, row512_2_1_##ACC}, {row512_3_0_##ACC, row512_3_1_##ACC},            \
    }
static const row512_fn row512_table[2][4][2] = {ROW512_SET(0), ROW512_SET(1)};
#undef ROW512_SET

static GK_AVX512 void gemm_avx512(const float *pa, int m, int k, size_t pstride, int accumulate,
                                  const float *b, size_t ldb, int n, float *c, size_t ldc) {
    const int panels = (m + GK_MR - 1) / GK_MR;
    const row512_fn(*table)[2] = row512_table[accumulate != 0];
    int j = 0;
    for (; j + 48 <= n; j += 48) {
        for (int p = 0; p < panels; p++) {
            const bool pf = j + 48 < n && (p == panels - 1 || k <= GK_PF_ALL_PANELS_K);
            const row512_fn fn = pf ? table[0][0] : table[3][0];
            fn(pa + (size_t)p * pstride, b + j, ldb, c + (size_t)p * GK_MR * ldc + j, ldc, k,
               0xFFFF, m - p * GK_MR);
        }
    }
    const int left = n - j;
    if (left == 0) return;
    int nv = left / 16;
    const int tail = left % 16;
    int masked = 0;
    __mmask16 mask = 0xFFFF;
    if (tail >= GK_COL_THRESHOLD_512) {
        nv++;
        masked = 1;
        mask = (__mmask16)((1u << tail) - 1u);
    }
    if (nv > 0) {
        const row512_fn fn = table[nv][masked];
        for (int p = 0; p < panels; p++)
            fn(pa + (size_t)p * pstride, b + j, ldb, c + (size_t)p * GK_MR * ldc + j, ldc, k, mask,
               m - p * GK_MR);
        j = masked ? n : j + nv * 16;
    }
    if (j < n) col_block(pa, m, k, pstride, accumulate, b, ldb, j, n, c, ldc);
}

// ---------------------------------------------------------------------------------------------
// AVX2 row kernel: 4 rows × NV·8 columns, for the half of a panel whose first element is at `pa`.
// No masked variant: a remainder narrower than 8 columns goes to the column kernel, which costs
// fewer FMAs than a masked vector would.
// PF: prefetch the next 24 columns, as in row_tile512.
GK_INLINE GK_AVX2 void row_tile256(const float *restrict pa, const float *restrict b, size_t ldb,
                                   float *restrict c, size_t ldc, int k, const int NV, const int PF,
                                   int rows, const int ACC) {
    __m256 acc[4][3];
    for (int r = 0; r < 4; r++) {
        // Rows past m have no C: they load the last valid row instead (never stored back).
        const size_t row = (size_t)(r < rows ? r : rows - 1);
        for (int v = 0; v < NV; v++)
            acc[r][v] = ACC ? _mm256_loadu_ps(c + row * ldc + 8 * v) : _mm256_setzero_ps();
    }
    for (int kk = 0; kk < k; kk++) {
        const float *br = b + (size_t)kk * ldb;
        __m256 bv[3];
        for (int v = 0; v < NV; v++) bv[v] = _mm256_loadu_ps(br + 8 * v);
        if (PF) {
            _mm_prefetch(gk_ahead(br, 24), _MM_HINT_T0);
            _mm_prefetch(gk_ahead(br, 40), _MM_HINT_T0);
        }
        const float *ak = pa + (size_t)kk * GK_MR;
        for (int r = 0; r < 4; r++) {
            const __m256 ar = _mm256_broadcast_ss(ak + r);
            for (int v = 0; v < NV; v++) acc[r][v] = _mm256_fmadd_ps(ar, bv[v], acc[r][v]);
            // 12 accumulators + 3 vectors of B + 1 broadcast take all 16 registers, and clang,
            // left alone, hoists the next row's broadcast above this row's FMAs and spills an
            // accumulator in the loop (half speed). This empty asm (no instruction) makes the
            // next broadcast's address depend on this row's results, which keeps that order.
            if (NV == 3) __asm__("" : "+r"(ak) : "x"(acc[r][0]), "x"(acc[r][1]), "x"(acc[r][2]));
        }
    }
    for (int r = 0; r < 4; r++) {
        if (r >= rows) break;
        float *cr = c + (size_t)r * ldc;
        for (int v = 0; v < NV; v++) _mm256_storeu_ps(cr + 8 * v, acc[r][v]);
    }
}

#define ROW256_FN(NAME, NV, PF, ACC)                                                               \
    GK_NOINLINE GK_AVX2 void NAME##_##ACC(const float *pa, const float *b, size_t ldb, float *c,   \
                                          size_t ldc, int k, int rows) {                           \
        row_tile256(pa, b, ldb, c, ldc, k, NV, PF, rows, ACC);                                     \
    }
#define ROW256_FNS(ACC)                                                                            \
    ROW256_FN(row256_3_pf, 3, 1, ACC) ROW256_FN(row256_3, 3, 0, ACC)                               \
    ROW256_FN(row256_2, 2, 0, ACC) ROW256_FN(row256_1, 1, 0, ACC)
ROW256_FNS(0)
ROW256_FNS(1)
#undef ROW256_FNS
#undef ROW256_FN

typedef void (*row256_fn)(const float *, const float *, size_t, float *, size_t, int, int);
// [ACC][nv], with [ACC][0] the 3-vector kernel with the prefetch.
static const row256_fn row256_table[2][4] = {
    {row256_3_pf_0, row256_1_0, row256_2_0, row256_3_0},
    {row256_3_pf_1, row256_1_1, row256_2_1, row256_3_1},
};

// Columns j ..< j + 8·nv of every panel (two 4-row halves per panel; the second is skipped when
// it has no valid rows), with `fn`, or `last` on the last panel.
static GK_AVX2 void row256_cols(row256_fn fn, row256_fn last, const float *pa, int m, int k,
                                size_t pstride, const float *b, size_t ldb, int j, float *c,
                                size_t ldc) {
    const int panels = (m + GK_MR - 1) / GK_MR;
    for (int p = 0; p < panels; p++) {
        const float *panel = pa + (size_t)p * pstride;
        float *cp = c + (size_t)p * GK_MR * ldc + j;
        const int rows = m - p * GK_MR;
        const row256_fn f = p == panels - 1 ? last : fn;
        f(panel, b + j, ldb, cp, ldc, k, rows);
        if (rows > 4) f(panel + 4, b + j, ldb, cp + 4 * ldc, ldc, k, rows - 4);
    }
}

static GK_AVX2 void gemm_avx2(const float *pa, int m, int k, size_t pstride, int accumulate,
                              const float *b, size_t ldb, int n, float *c, size_t ldc) {
    const row256_fn *table = row256_table[accumulate != 0];
    int j = 0;
    for (; j + 24 <= n; j += 24) {
        const row256_fn last = j + 24 < n ? table[0] : table[3];
        row256_cols(k <= GK_PF_ALL_PANELS_K ? last : table[3], last, pa, m, k, pstride, b, ldb, j,
                    c, ldc);
    }
    const int nv = (n - j) / 8;
    if (nv > 0) {
        const row256_fn fn = table[nv];
        row256_cols(fn, fn, pa, m, k, pstride, b, ldb, j, c, ldc);
        j += 8 * nv;
    }
    if (j < n) col_block(pa, m, k, pstride, accumulate, b, ldb, j, n, c, ldc);
}

// ---------------------------------------------------------------------------------------------
// Blocking over k and a packed copy of B, for the products that lose to reading B in place;
// neither changes a sum (so no bit). Columns are taken in chunks of GK_N_CHUNK (a whole number of
// either ISA's strips) and k in balanced blocks of at most GK_K_BLOCK; each (chunk, block) of B is
// copied into a contiguous buffer (GK_N_CHUNK floats a row, 24 KB; twice that for an A over 2 MB)
// that every panel then reads from L1 (or L2). A block after the first continues each element's chain from the value in C (loaded,
// not added: acc starts as C), so an element is still the one k-ordered chain of FMAs from +0.
//
// When it pays (gemm_copies_b), measured per shape on Zen 3 (AVX2; docs/performance.md, "GEMM
// thresholds and the seed nets"):
// - B's rows a multiple of 4 KB apart (a 32² or 64² feature map, ldb = 1024 or 4096): in place, every
//   row of a strip falls in the same L1 set (and few L2 sets), so each panel re-reads the strip
//   from L2 or L3; copied, 960×160×1024 took 0.7–0.8× the time, 256×2304×1024 0.35×. It needs
//   enough panels to reuse each copied element: at m < 64 the copy costs more than it saves
//   (80×184, 40×120 over 32² and 64² lost 15–20%).
// - k > GK_DEEP_K, whatever ldb: a 24-column strip of more than ~1000 rows no longer stays in L1
//   between panels (256×1600×1000: 0.45×). That holds from one chunk of columns on: the 64-column
//   regions of DeepLabV3's dilated 3×3s (TapRegions; 256×8640×64, 256×3840×64) took 0.64–0.8×.
// - Nothing else: on the seed nets' shapes (k ≤ 960, n = 1 … 12544, no 4 KB stride) the copy
//   cost 0–20% and won nowhere beyond noise, so they read B in place as before the blocking.
//   Narrow products (n < 2·GK_N_CHUNK with k ≤ GK_DEEP_K: the classifiers and squeeze-excitation
//   layers at n = 1, 7² maps) have nothing to reuse a copy for.
#ifndef GK_K_BLOCK
#define GK_K_BLOCK 128
#endif
#define GK_N_CHUNK 48
#ifndef GK_PACK_B_MIN_M
#define GK_PACK_B_MIN_M 64
#endif
#ifndef GK_DEEP_K
#define GK_DEEP_K 1024
#endif
#define GK_ALIAS_BYTES 4096
#ifndef GK_WIDE_CHUNK_A_BYTES
#define GK_WIDE_CHUNK_A_BYTES (2 << 20)
#endif

static int gemm_copies_b(int m, int k, int n, size_t ldb, size_t element) {
    if (k > GK_DEEP_K && n >= GK_N_CHUNK) return 1;
    if (n < 2 * GK_N_CHUNK) return 0;
    return m >= GK_PACK_B_MIN_M && (ldb * element) % GK_ALIAS_BYTES == 0;
}

typedef void (*gemm_fn)(const float *, int, int, size_t, int, const float *, size_t, int, float *,
                        size_t);

static void gemm_blocked(gemm_fn kernel, const float *pa, int m, int k, const float *b, size_t ldb,
                         int n, float *c, size_t ldc) {
    const size_t pstride = (size_t)GK_MR * (size_t)k;
    if (!gemm_copies_b(m, k, n, ldb, sizeof(float))) {
        kernel(pa, m, k, pstride, 0, b, ldb, n, c, ldc);
        return;
    }
    const int k_blocks = (k + GK_K_BLOCK - 1) / GK_K_BLOCK;
    const int k_step = (k + k_blocks - 1) / k_blocks; // 960 = 8 · 120, not 7 · 128 + 64
    // All of A is read once per chunk; when it is larger than L2, chunks twice as wide halve that
    // traffic (the 48 KB chunk then comes from L2, which costs less): 256×8640×1024 and
    // 256×2304×1024 took 0.88–0.94× the time, while 960×160×1024 and 160×960×1024 (A 0.6 MB)
    // lost 3–12% with them.
    const int width = (size_t)m * (size_t)k * sizeof(float) >= GK_WIDE_CHUNK_A_BYTES
                          ? 2 * GK_N_CHUNK
                          : GK_N_CHUNK;
    _Alignas(64) float chunk[GK_K_BLOCK * 2 * GK_N_CHUNK];
    for (int j = 0; j < n; j += width) {
        const int nc = n - j < width ? n - j : width;
        for (int k0 = 0; k0 < k; k0 += k_step) {
            const int kb = k - k0 < k_step ? k - k0 : k_step;
            // B no wider than one chunk (ldb = n = nc: DeepLabV3's regions) is already laid out
            // as the chunk would be.
            const float *block = b + (size_t)k0 * ldb + j;
            if (ldb != (size_t)nc) {
                for (int kk = 0; kk < kb; kk++)
                    memcpy(chunk + (size_t)kk * nc, block + (size_t)kk * ldb,
                           (size_t)nc * sizeof(float));
                block = chunk;
            }
            kernel(pa + (size_t)k0 * GK_MR, m, kb, pstride, k0 > 0, block, (size_t)nc, nc, c + j,
                   ldc);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// CPU choice: -1 not yet known, else 0 (none), 1 (AVX2+FMA), 2 (AVX-512F).
static int gk_isa_cached = -1;

static int gk_isa_detect(void) {
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) return 0;
    return __builtin_cpu_supports("avx512f") ? 2 : 1;
}

static int gk_isa(void) {
    int isa = __atomic_load_n(&gk_isa_cached, __ATOMIC_RELAXED);
    if (isa < 0) {
        isa = gk_isa_detect();
        __atomic_store_n(&gk_isa_cached, isa, __ATOMIC_RELAXED);
    }
    return isa;
}

#else // not x86-64: no vector kernel

static int gk_isa_detect(void) { return 0; }
static int gk_isa(void) { return 0; }
static int gk_isa_cached;

#endif

int gk_gemm_force_isa(int isa) {
    const int best = gk_isa_detect();
    const int chosen = (isa <= 0 || isa > best) ? best : isa;
    __atomic_store_n(&gk_isa_cached, chosen, __ATOMIC_RELAXED);
    return chosen;
}

int gk_gemm_best_isa(void) { return gk_isa_detect(); }

int gk_gemm_isa_in_effect(void) { return gk_isa(); }

bool gk_gemm_available(void) { return gk_isa() > 0; }

void gk_gemm_packed(const float *packed, int m, int k, const float *b, int ldb, int n, float *c,
                    int ldc) {
    if (m <= 0 || n <= 0) return;
    if (k <= 0) {
        gemm_zero(m, n, c, (size_t)ldc);
        return;
    }
    switch (gk_isa()) {
#if defined(__x86_64__)
    case 2: gemm_blocked(gemm_avx512, packed, m, k, b, (size_t)ldb, n, c, (size_t)ldc); break;
    case 1: gemm_blocked(gemm_avx2, packed, m, k, b, (size_t)ldb, n, c, (size_t)ldc); break;
#endif
    default: gemm_scalar(packed, m, k, b, (size_t)ldb, n, c, (size_t)ldc); break;
    }
}
