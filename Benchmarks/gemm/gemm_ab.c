// Before/after per GEMM shape: the float32 kernel of another revision (its gemm.c compiled with
// every public symbol prefixed `base_`, see ab.sh) against the working tree's, on the same packed
// A and the same B, in alternating order (the first of a pair runs slightly slower from a cold
// cache, so the order alternates each round), thread CPU time (robust to other processes on the
// machine), the median of ROUNDS. Prints per shape both times and new/base, and the totals weighted
// by each shape's count; checks that both give the same bits.
// Input: lines "m k n count" (# starts a comment), e.g. from conv_shapes.py.
#include "ghost_gemm.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

size_t base_gk_gemm_packed_count(int m, int k);
void base_gk_gemm_pack_a(const float *a, int lda, int m, int k, float *packed);
void base_gk_gemm_packed(const float *packed, int m, int k, const float *b, int ldb, int n,
                         float *c, int ldc);

#ifndef ROUNDS
#define ROUNDS 21
#endif

static double cpu_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int compare(const void *x, const void *y) {
    const double a = *(const double *)x, b = *(const double *)y;
    return a < b ? -1 : a > b;
}

static float *aligned_floats(size_t count) {
    const size_t bytes = (count * sizeof(float) + 63) / 64 * 64;
    float *p = aligned_alloc(64, bytes ? bytes : 64);
    if (!p) { fprintf(stderr, "out of memory\n"); exit(1); }
    return p;
}

typedef void (*product_fn)(const float *, int, int, const float *, int, int, float *, int);

// Mean CPU seconds of one call over `inner` calls.
static double time_calls(product_fn f, const float *packed, int m, int k, const float *b, int n,
                         float *c, int inner) {
    const double t0 = cpu_seconds();
    for (int i = 0; i < inner; i++) f(packed, m, k, b, n, n, c, n);
    return (cpu_seconds() - t0) / inner;
}

int main(int argc, char **argv) {
    FILE *in = argc > 1 ? fopen(argv[1], "r") : stdin;
    if (!in) { perror(argv[1]); return 2; }
    char line[256];
    double total_base = 0, total_new = 0;
    int differ = 0;
    uint32_t seed = 12345;
    printf("%6s %6s %6s %5s %10s %10s %7s %7s\n", "m", "k", "n", "count", "base µs", "new µs",
           "new/base", "GFLOP/s");
    while (fgets(line, sizeof line, in)) {
        int m, k, n, count;
        if (line[0] == '#' || sscanf(line, "%d %d %d %d", &m, &k, &n, &count) != 4) continue;
        float *a = aligned_floats((size_t)m * k), *b = aligned_floats((size_t)k * n);
        float *c_base = aligned_floats((size_t)m * n), *c_new = aligned_floats((size_t)m * n);
        for (size_t i = 0; i < (size_t)m * k; i++) a[i] = (float)((seed = seed * 1664525u + 1013904223u) >> 8) / 16777216.0f - 0.5f;
        for (size_t i = 0; i < (size_t)k * n; i++) b[i] = (float)((seed = seed * 1664525u + 1013904223u) >> 8) / 16777216.0f - 0.5f;
        float *p_base = aligned_floats(base_gk_gemm_packed_count(m, k));
        float *p_new = aligned_floats(gk_gemm_packed_count(m, k));
        base_gk_gemm_pack_a(a, k, m, k, p_base);
        gk_gemm_pack_a(a, k, m, k, p_new);
        const double flop = 2.0 * m * k * n;
        const int inner = (int)(2e7 / flop) + 1;  // ≥ ~0.2 ms of work per sample
        double t_base[ROUNDS], t_new[ROUNDS];
        for (int r = 0; r < ROUNDS; r++) {
            if (r & 1) t_new[r] = time_calls(gk_gemm_packed, p_new, m, k, b, n, c_new, inner);
            t_base[r] = time_calls(base_gk_gemm_packed, p_base, m, k, b, n, c_base, inner);
            if (!(r & 1)) t_new[r] = time_calls(gk_gemm_packed, p_new, m, k, b, n, c_new, inner);
        }
        if (memcmp(c_base, c_new, sizeof(float) * (size_t)m * n) != 0) {
            printf("%d×%d×%d: the two kernels give different bits\n", m, k, n);
            differ++;
        }
        qsort(t_base, ROUNDS, sizeof(double), compare);
        qsort(t_new, ROUNDS, sizeof(double), compare);
        const double us_base = t_base[ROUNDS / 2] * 1e6, us_new = t_new[ROUNDS / 2] * 1e6;
        total_base += us_base * count;
        total_new += us_new * count;
        printf("%6d %6d %6d %5d %10.2f %10.2f %7.3f %7.1f\n", m, k, n, count, us_base, us_new,
               us_new / us_base, flop / (us_new * 1e3));
        free(a); free(b); free(c_base); free(c_new); free(p_base); free(p_new);
    }
    printf("total (each shape × its count): base %.1f µs, new %.1f µs, new/base %.3f\n", total_base,
           total_new, total_base > 0 ? total_new / total_base : 0);
    return differ ? 1 : 0;
}
