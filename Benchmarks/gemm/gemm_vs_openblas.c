// The packed GEMM kernel (Sources/CKernels/gemm.c) against single-threaded OpenBLAS on the
// pointwise-convolution shapes of MobileNetV3, GhostNet and RepGhostNet at 224², and a
// correctness sweep (double-precision reference, k-ordered fmaf bits, AVX2 = AVX-512 bits).
// Built and run by Benchmarks/gemm/run.sh [test|bench|all].
#include "ghost_gemm.h"

#include <dlfcn.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef void (*sgemm_t)(int, int, int, int, int, int, float, const float *, int, const float *,
                        int, float, float *, int);
static sgemm_t blas_sgemm;

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint32_t rnd32(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 11);
}
static float rndf(void) { return (float)((double)rnd32() / 2147483648.0 - 1.0); }
static int rndi(int lo, int hi) { return lo + (int)(rnd32() % (uint32_t)(hi - lo + 1)); }

static void *xalloc(size_t bytes) {
    void *p = NULL;
    if (bytes == 0) bytes = 64;
    bytes = (bytes + 63) / 64 * 64;
    p = aligned_alloc(64, bytes);
    if (!p) { fprintf(stderr, "oom\n"); exit(1); }
    return p;
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int n_fail = 0;

// One correctness case: B and C allocated exactly (ending at their last valid element), with row
// padding filled with sentinels / NaN to detect reads and writes outside the valid region. A
// negative padb gives B the row stride -padb (≥ n) instead of n + padb.
static void check_case(int m, int k, int n, int padb, int padc, int isa_count) {
    const int lda = k + (int)(rnd32() % 3);
    const int ldb = padb < 0 ? -padb : n + padb, ldc = n + padc;
    float *a = malloc(sizeof(float) * ((size_t)m * lda));
    for (size_t i = 0; i < (size_t)m * lda; i++) a[i] = rndf();
    const size_t bcount = k > 0 ? (size_t)(k - 1) * ldb + n : 0;
    float *b = malloc(sizeof(float) * (bcount ? bcount : 1));
    for (size_t i = 0; i < bcount; i++) b[i] = ((i % ldb) < (size_t)n) ? rndf() : NAN;
    const size_t ccount = (size_t)(m - 1) * ldc + n;
    float *c[3];
    size_t pc = gk_gemm_packed_count(m, k);
    float *packed = xalloc(sizeof(float) * (pc ? pc : 1));
    gk_gemm_pack_a(a, lda, m, k, packed);
    for (int v = 0; v < isa_count; v++) {
        c[v] = malloc(sizeof(float) * ccount);
        for (size_t i = 0; i < ccount; i++) c[v][i] = 12345.0f;
        gk_gemm_force_isa(2 - v); // 2 = AVX-512, 1 = AVX2
        gk_gemm_packed(packed, m, k, b, ldb, n, c[v], ldc);
    }
    gk_gemm_force_isa(0);
    int bad = 0;
    for (int i = 0; i < m && bad < 3; i++) {
        for (int j = 0; j < ldc && bad < 3; j++) {
            const size_t idx = (size_t)i * ldc + j;
            if (idx >= ccount) break;
            if (j >= n) { // padding must be untouched
                for (int v = 0; v < isa_count; v++)
                    if (c[v][idx] != 12345.0f) {
                        printf("FAIL m=%d k=%d n=%d: padding written at (%d,%d)\n", m, k, n, i, j);
                        bad++;
                    }
                continue;
            }
            double ref = 0, mag = 0;
            float seq = 0.0f; // sequential fma from +0: what the kernel promises bit for bit
            for (int kk = 0; kk < k; kk++) {
                const double t = (double)a[(size_t)i * lda + kk] * b[(size_t)kk * ldb + j];
                ref += t;
                mag += fabs(t);
                seq = fmaf(a[(size_t)i * lda + kk], b[(size_t)kk * ldb + j], seq);
            }
            for (int v = 0; v < isa_count; v++) {
                const float got = c[v][idx];
                const double err = fabs(got - ref);
                if (!(err <= 1e-5 * mag + 1e-30)) {
                    printf("FAIL m=%d k=%d n=%d isa=%d (%d,%d): got %.9g ref %.9g\n", m, k, n,
                           2 - v, i, j, got, ref);
                    bad++;
                } else if (memcmp(&got, &seq, 4) != 0) {
                    printf("FAIL m=%d k=%d n=%d isa=%d (%d,%d): not the sequential fma sum %.9g vs %.9g\n",
                           m, k, n, 2 - v, i, j, got, seq);
                    bad++;
                }
            }
        }
    }
    if (isa_count == 2 && memcmp(c[0], c[1], sizeof(float) * ccount) != 0) {
        printf("FAIL m=%d k=%d n=%d: AVX-512 and AVX2 differ\n", m, k, n);
        bad++;
    }
    if (bad) n_fail++;
    for (int v = 0; v < isa_count; v++) free(c[v]);
    free(a);
    free(b);
    free(packed);
}

static const int shapes[][3] = {
    {16, 16, 12544}, {64, 16, 3136}, {72, 24, 3136}, {24, 72, 784},  {88, 24, 784},
    {96, 40, 196},   {240, 40, 196}, {40, 240, 196}, {120, 48, 196}, {144, 48, 196},
    {288, 96, 49},   {96, 288, 49},  {576, 96, 49},  {96, 576, 49},  {1024, 576, 1},
    {160, 960, 49},  {960, 160, 49}, {24, 96, 3136}, {16, 16, 784},  {128, 960, 49},
    // The segmenters at 512² (MobileNetV3's last stage at 32²): 1×1s over 960 channels, LR-ASPP's
    // 128-channel head, DeepLabV3's dilated 3×3 ASPP branches (K = 960·9) and its 3×3 head.
    {160, 960, 1024}, {960, 160, 1024}, {128, 960, 1024}, {256, 8640, 1024}, {256, 2304, 1024},
    {256, 960, 1024}, {64, 16, 65536}, {72, 24, 16384},
};
static const int n_shapes = (int)(sizeof(shapes) / sizeof(shapes[0]));

static int run_tests(void) {
    const int isa = gk_gemm_force_isa(0);
    const int isa_count = isa >= 2 ? 2 : 1;
    printf("kernel: %s; testing %s\n", isa == 2 ? "AVX-512" : isa == 1 ? "AVX2" : "none",
           isa_count == 2 ? "AVX-512 and AVX2" : "one ISA");
    int cases = 0;
    // Exhaustive small corner.
    for (int m = 1; m <= 17; m++)
        for (int n = 1; n <= 50; n++)
            for (int k = 1; k <= 3; k++) { check_case(m, k, n, 0, 0, isa_count); cases++; }
    // Random shapes in 1..70 with random row padding.
    for (int t = 0; t < 3000; t++) {
        check_case(rndi(1, 70), rndi(1, 70), rndi(1, 70), rndi(0, 5) == 0 ? rndi(1, 9) : 0,
                   rndi(0, 5) == 0 ? rndi(1, 9) : 0, isa_count);
        cases++;
    }
    // Wider N (strip + remainder combinations).
    for (int t = 0; t < 300; t++) {
        check_case(rndi(1, 40), rndi(1, 40), rndi(40, 260), rndi(0, 3), rndi(0, 3), isa_count);
        cases++;
    }
    // Larger random shapes (several strips, both prefetch policies, partial panels).
    for (int t = 0; t < 150; t++) {
        check_case(rndi(1, 100), rndi(1, 200), rndi(1, 400), rndi(0, 3), rndi(0, 3), isa_count);
        cases++;
    }
    // Deep k (k > 1024: blocked over k, B copied in chunks): balanced blocks, chunk tails,
    // partial panels; and k ≤ 1024 read in place.
    for (int t = 0; t < 40; t++) {
        check_case(rndi(1, 40), rndi(129, 1300), rndi(1, 150), rndi(0, 3), rndi(0, 3), isa_count);
        cases++;
    }
    // B's rows 4 or 8 KB apart (copied when m ≥ 64 and n ≥ 96, read in place otherwise).
    for (int t = 0; t < 30; t++) {
        const int n = rndi(60, 250);
        check_case(rndi(40, 100), rndi(1, 400), n, rndi(0, 1) ? -1024 : -2048,
                   rndi(0, 3), isa_count);
        cases++;
    }
    // Real shapes.
    for (int s = 0; s < n_shapes; s++) {
        check_case(shapes[s][0], shapes[s][1], shapes[s][2], 0, 0, isa_count);
        cases++;
    }
    // K = 0 writes zeros.
    {
        float cz[12];
        for (int i = 0; i < 12; i++) cz[i] = 7.0f;
        gk_gemm_packed(NULL, 3, 0, NULL, 4, 4, cz, 4);
        for (int i = 0; i < 12; i++)
            if (cz[i] != 0.0f) { printf("FAIL k=0\n"); n_fail++; break; }
        cases++;
    }
    printf("correctness: %d cases, %d failures\n", cases, n_fail);
    return n_fail;
}

static int cmp_double(const void *x, const void *y) {
    const double a = *(const double *)x, b = *(const double *)y;
    return a < b ? -1 : a > b;
}

// Median over `samples` of the mean time of `inner` calls, in milliseconds.
#ifndef SAMPLES
#define SAMPLES 31
#endif
static double time_ours(const float *packed, int m, int k, const float *b, int n, float *c,
                        int inner) {
    double t[SAMPLES];
    for (int s = 0; s < SAMPLES; s++) {
        const double t0 = now();
        for (int i = 0; i < inner; i++) gk_gemm_packed(packed, m, k, b, n, n, c, n);
        t[s] = (now() - t0) / inner;
    }
    qsort(t, SAMPLES, sizeof(double), cmp_double);
    return t[SAMPLES / 2] * 1e3;
}
static double time_blas(const float *a, int m, int k, const float *b, int n, float *c, int inner) {
    double t[SAMPLES];
    for (int s = 0; s < SAMPLES; s++) {
        const double t0 = now();
        for (int i = 0; i < inner; i++)
            blas_sgemm(101, 111, 111, m, n, k, 1.0f, a, k, b, n, 0.0f, c, n);
        t[s] = (now() - t0) / inner;
    }
    qsort(t, SAMPLES, sizeof(double), cmp_double);
    return t[SAMPLES / 2] * 1e3;
}

static void run_bench(void) {
    const int isa = gk_gemm_force_isa(0);
    printf("\n%-16s %10s %10s %10s %7s %7s %9s\n", "M,K,N", "blas ms", "ours ms", "avx2 ms",
           "ours/b", "avx2/b", "GFLOP/s");
    double tb = 0, to = 0, t2 = 0;
    for (int s = 0; s < n_shapes; s++) {
        const int m = shapes[s][0], k = shapes[s][1], n = shapes[s][2];
        float *a = xalloc(sizeof(float) * (size_t)m * k);
        float *b = xalloc(sizeof(float) * (size_t)k * n);
        float *c = xalloc(sizeof(float) * (size_t)m * n);
        for (size_t i = 0; i < (size_t)m * k; i++) a[i] = rndf();
        for (size_t i = 0; i < (size_t)k * n; i++) b[i] = rndf();
        float *packed = xalloc(sizeof(float) * gk_gemm_packed_count(m, k));
        gk_gemm_pack_a(a, k, m, k, packed);
        const double flops = 2.0 * m * k * n;
        int inner = (int)(2e6 / flops * 50); // aim ~ a few ms per sample
        if (inner < 1) inner = 1;
        if (inner > 2000) inner = 2000;
        // warm up
        for (int i = 0; i < inner; i++) {
            gk_gemm_packed(packed, m, k, b, n, n, c, n);
            blas_sgemm(101, 111, 111, m, n, k, 1.0f, a, k, b, n, 0.0f, c, n);
        }
        const double ob = time_blas(a, m, k, b, n, c, inner);
        gk_gemm_force_isa(2);
        const double oo = time_ours(packed, m, k, b, n, c, inner);
        double o2 = 0;
        if (isa >= 1) {
            gk_gemm_force_isa(1);
            o2 = time_ours(packed, m, k, b, n, c, inner);
            gk_gemm_force_isa(0);
        }
        char name[32];
        snprintf(name, sizeof name, "%d,%d,%d", m, k, n);
        printf("%-16s %10.4f %10.4f %10.4f %7.3f %7.3f %9.1f\n", name, ob, oo, o2, oo / ob, o2 / ob,
               flops / (oo * 1e-3) * 1e-9);
        tb += ob;
        to += oo;
        t2 += o2;
        free(a);
        free(b);
        free(c);
        free(packed);
    }
    printf("%-16s %10.4f %10.4f %10.4f %7.3f %7.3f\n", "TOTAL", tb, to, t2, to / tb, t2 / tb);
}

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "all";
    setenv("OPENBLAS_NUM_THREADS", "1", 1);
    void *h = dlopen("libopenblas.so.0", RTLD_NOW | RTLD_LOCAL);
    if (!h) { fprintf(stderr, "dlopen: %s\n", dlerror()); return 1; }
    blas_sgemm = (sgemm_t)dlsym(h, "cblas_sgemm");
    if (!blas_sgemm) { fprintf(stderr, "no cblas_sgemm\n"); return 1; }
    printf("gk_gemm_available: %d\n", gk_gemm_available());
    int rc = 0;
    if (!strcmp(mode, "test") || !strcmp(mode, "all")) rc = run_tests() != 0;
    if (!strcmp(mode, "bench") || !strcmp(mode, "all")) run_bench();
    return rc;
}
