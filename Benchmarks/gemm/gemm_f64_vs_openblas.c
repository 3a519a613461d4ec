// The float64 packed GEMM (Sources/CKernels/gemm_f64.c) against single-threaded OpenBLAS dgemm
// and against the float32 packed GEMM on the same shapes (the pointwise convolutions of GhostNet,
// MobileNetV3 and RepGhostNet at 224²), and a correctness sweep: every element must be the
// k-ordered chain of fma() from +0, bit for bit, row padding of C untouched, NaN padding of B
// never read, AVX2 = AVX-512 bits where the CPU has both.
// Built and run by Benchmarks/gemm/run.sh [test64|bench64].
#include "ghost_gemm.h"

#include <dlfcn.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef void (*dgemm_t)(int, int, int, int, int, int, double, const double *, int, const double *,
                        int, double, double *, int);
static dgemm_t blas_dgemm;

static uint64_t rng = 0x2545F4914F6CDD1Dull;
static uint32_t rnd32(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 11);
}
static double rndd(void) { return (double)rnd32() / 1073741824.0 - 1.0; }
static int rndi(int lo, int hi) { return lo + (int)(rnd32() % (uint32_t)(hi - lo + 1)); }

static void *xalloc(size_t bytes) {
    bytes = (bytes + 63) / 64 * 64;
    void *p = aligned_alloc(64, bytes ? bytes : 64);
    if (!p) { fprintf(stderr, "out of memory\n"); exit(1); }
    return p;
}

// CPU time of this thread, not wall time: on a shared machine a long measurement is preempted
// more often than a short one, which would bias the f64/f32 ratio (every kernel here runs on the
// calling thread; OpenBLAS has one thread).
static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int failures = 0;

static void check_case(int m, int k, int n, int padb, int padc, int isa_count) {
    const int ldb = n + padb, ldc = n + padc;
    double *a = xalloc(sizeof(double) * (size_t)m * k);
    double *b = xalloc(sizeof(double) * (size_t)k * ldb);
    double *packed = xalloc(sizeof(double) * gk_gemm_packed_count(m, k));
    double *c[2];
    for (size_t i = 0; i < (size_t)m * k; i++) a[i] = rndd();
    for (size_t i = 0; i < (size_t)k * ldb; i++) b[i] = (int)(i % ldb) < n ? rndd() : NAN;
    gk_gemm_pack_a_f64(a, k, m, k, packed);
    for (int v = 0; v < isa_count; v++) {
        c[v] = xalloc(sizeof(double) * (size_t)m * ldc);
        for (size_t i = 0; i < (size_t)m * ldc; i++) c[v][i] = 12345.0;
        gk_gemm_force_isa(isa_count == 2 ? 2 - v : 0);
        gk_gemm_packed_f64(packed, m, k, b, ldb, n, c[v], ldc);
    }
    gk_gemm_force_isa(0);
    int bad = 0;
    for (int i = 0; i < m && bad < 3; i++) {
        for (int j = 0; j < ldc && bad < 3; j++) {
            for (int v = 0; v < isa_count; v++) {
                const double got = c[v][(size_t)i * ldc + j];
                if (j >= n) {
                    if (got != 12345.0) { printf("FAIL %d×%d×%d: padding written at (%d,%d)\n", m, k, n, i, j); bad++; }
                    continue;
                }
                double chain = 0.0;
                for (int p = 0; p < k; p++) chain = fma(a[(size_t)i * k + p], b[(size_t)p * ldb + j], chain);
                if (memcmp(&got, &chain, sizeof got) != 0) {
                    printf("FAIL %d×%d×%d (%d,%d): %.17g, the fma chain is %.17g\n", m, k, n, i, j, got, chain);
                    bad++;
                }
            }
        }
    }
    if (isa_count == 2 && memcmp(c[0], c[1], sizeof(double) * (size_t)m * ldc) != 0) {
        printf("FAIL %d×%d×%d: AVX-512 and AVX2 differ\n", m, k, n);
        bad++;
    }
    if (bad) failures++;
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
};
static const int n_shapes = (int)(sizeof(shapes) / sizeof(shapes[0]));

static int run_tests(void) {
    const int isa = gk_gemm_force_isa(0);
    const int isa_count = isa >= 2 ? 2 : 1;
    printf("float64 kernel: %s; testing %s\n", isa == 2 ? "AVX-512" : isa == 1 ? "AVX2" : "none (scalar loop)",
           isa_count == 2 ? "AVX-512 and AVX2" : "one kernel");
    int cases = 0;
    for (int m = 1; m <= 17; m++)
        for (int n = 1; n <= 50; n++)
            for (int k = 1; k <= 3; k++, cases++) check_case(m, k, n, 0, 0, isa_count);
    for (int t = 0; t < 3000; t++, cases++)
        check_case(rndi(1, 70), rndi(1, 70), rndi(1, 70), rndi(0, 3), rndi(0, 3), isa_count);
    for (int t = 0; t < 150; t++, cases++)
        check_case(rndi(1, 100), rndi(1, 200), rndi(1, 400), rndi(0, 3), rndi(0, 3), isa_count);
    for (int s = 0; s < n_shapes; s++, cases++) check_case(shapes[s][0], shapes[s][1], shapes[s][2], 0, 0, isa_count);
    printf("correctness: %d cases, %d failures\n", cases, failures);
    return failures;
}

static int cmp_double(const void *x, const void *y) {
    const double a = *(const double *)x, b = *(const double *)y;
    return a < b ? -1 : a > b;
}

#define SAMPLES 21
enum { OURS64, BLAS64, OURS32 };

// Median over SAMPLES of the mean time of `inner` calls, in milliseconds.
static double time_one(int which, const void *a, const void *packed, int m, int k, const void *b, int n, void *c,
                       int inner) {
    double t[SAMPLES];
    for (int s = 0; s < SAMPLES; s++) {
        const double t0 = now();
        for (int i = 0; i < inner; i++) {
            if (which == OURS64) gk_gemm_packed_f64(packed, m, k, b, n, n, c, n);
            else if (which == BLAS64) blas_dgemm(101, 111, 111, m, n, k, 1.0, a, k, b, n, 0.0, c, n);
            else gk_gemm_packed(packed, m, k, b, n, n, c, n);
        }
        t[s] = (now() - t0) / inner;
    }
    qsort(t, SAMPLES, sizeof(double), cmp_double);
    return t[SAMPLES / 2] * 1e3;
}

static void run_bench(void) {
    printf("\n%-16s %10s %10s %10s %9s %9s %9s\n", "M,K,N", "dgemm ms", "f64 ms", "f32 ms", "f64/dgemm",
           "f64/f32", "GFLOP/s");
    double tb = 0, t64 = 0, t32 = 0;
    for (int s = 0; s < n_shapes; s++) {
        const int m = shapes[s][0], k = shapes[s][1], n = shapes[s][2];
        double *a = xalloc(sizeof(double) * (size_t)m * k), *b = xalloc(sizeof(double) * (size_t)k * n);
        double *c = xalloc(sizeof(double) * (size_t)m * n);
        double *packed = xalloc(sizeof(double) * gk_gemm_packed_count(m, k));
        float *af = xalloc(sizeof(float) * (size_t)m * k), *bf = xalloc(sizeof(float) * (size_t)k * n);
        float *cf = xalloc(sizeof(float) * (size_t)m * n);
        float *packedf = xalloc(sizeof(float) * gk_gemm_packed_count(m, k));
        for (size_t i = 0; i < (size_t)m * k; i++) af[i] = (float)(a[i] = rndd());
        for (size_t i = 0; i < (size_t)k * n; i++) bf[i] = (float)(b[i] = rndd());
        gk_gemm_pack_a_f64(a, k, m, k, packed);
        gk_gemm_pack_a(af, k, m, k, packedf);
        const double flops = 2.0 * m * k * n;
        int inner = (int)(1e8 / flops);
        if (inner < 1) inner = 1;
        if (inner > 2000) inner = 2000;
        for (int i = 0; i < inner; i++) { // warm up
            gk_gemm_packed_f64(packed, m, k, b, n, n, c, n);
            blas_dgemm(101, 111, 111, m, n, k, 1.0, a, k, b, n, 0.0, c, n);
            gk_gemm_packed(packedf, m, k, bf, n, n, cf, n);
        }
        // Interleaved, so drift in the machine's speed affects all three alike.
        const double ob = time_one(BLAS64, a, NULL, m, k, b, n, c, inner);
        const double o64 = time_one(OURS64, NULL, packed, m, k, b, n, c, inner);
        const double o32 = time_one(OURS32, NULL, packedf, m, k, bf, n, cf, inner);
        char name[32];
        snprintf(name, sizeof name, "%d,%d,%d", m, k, n);
        printf("%-16s %10.4f %10.4f %10.4f %9.3f %9.3f %9.1f\n", name, ob, o64, o32, o64 / ob, o64 / o32,
               flops / (o64 * 1e-3) * 1e-9);
        tb += ob;
        t64 += o64;
        t32 += o32;
        free(a); free(b); free(c); free(packed); free(af); free(bf); free(cf); free(packedf);
    }
    printf("%-16s %10.4f %10.4f %10.4f %9.3f %9.3f\n", "TOTAL", tb, t64, t32, t64 / tb, t64 / t32);
}

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "all";
    setenv("OPENBLAS_NUM_THREADS", "1", 1);
    void *h = dlopen("libopenblas.so.0", RTLD_NOW | RTLD_LOCAL);
    if (!h) { fprintf(stderr, "dlopen: %s\n", dlerror()); return 1; }
    blas_dgemm = (dgemm_t)dlsym(h, "cblas_dgemm");
    if (!blas_dgemm) { fprintf(stderr, "no cblas_dgemm\n"); return 1; }
    int rc = 0;
    if (!strcmp(mode, "test") || !strcmp(mode, "all")) rc = run_tests() != 0;
    if (!strcmp(mode, "bench") || !strcmp(mode, "all")) run_bench();
    return rc;
}
