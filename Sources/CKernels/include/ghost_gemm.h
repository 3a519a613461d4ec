// Single-threaded float32 and float64 GEMM for convolutions: C[m×n] = A[m×k] · B[k×n], all
// row-major, where A (the weights) is packed once ahead of time and B (the activations) is read in
// place (float32 deep products copy it in small chunks on the stack, which changes no sum). The float64 functions (suffix _f64, gemm_f64.c) mirror the float32 ones: same layout,
// same rounding rule in double, same kernel choice.
//
// Rounding: every element of C is the sequential sum, over k = 0, 1, …, K-1 in increasing order,
// of fused multiply-adds acc = fma(a[i][k], b[k][j], acc) starting from acc = +0. Nothing else is
// rounded, so a result does not depend on m, n, the element's position, the blocking, or the
// vector width: the AVX2 and AVX-512 kernels give bit-identical results (but not, in general, the
// same results as BLAS).
//
// x86-64 only: the kernel is chosen at run time (AVX-512F, else AVX2+FMA); elsewhere, or on older
// x86 CPUs, gk_gemm_available() is false and callers should use BLAS. The packed layout is the same
// for both kernels. All functions are thread-safe and keep no state besides the cached CPU choice.
#ifndef GHOST_GEMM_H
#define GHOST_GEMM_H

#include <stdbool.h>
#include <stddef.h>

// True when this CPU has a packed kernel (x86-64 with AVX2+FMA, or AVX-512F); otherwise callers
// use BLAS.
bool gk_gemm_available(void);

// Number of elements (floats, or doubles for _f64) the packed form of an m×k matrix needs (m
// rounded up to a multiple of 8, times k).
size_t gk_gemm_packed_count(int m, int k);

// Packs row-major A (m×k, row stride lda) into `packed`, which holds gk_gemm_packed_count(m, k)
// floats and is 64-byte aligned (the caller allocates it). Layout: panels of 8 rows, panel p at
// packed[p·8·k], element (row 8p+r, column kk) at panel[kk·8 + r]; rows past m are zero.
void gk_gemm_pack_a(const float *a, int lda, int m, int k, float *packed);

// C = packedA · B, overwriting C (beta = 0; C is never read). B is k×n row-major with row stride
// ldb ≥ n, C is m×n with row stride ldc ≥ n; only B[0..k-1][0..n-1] is read and only
// C[0..m-1][0..n-1] is written. m, n ≥ 1; k = 0 writes zeros. Without a kernel
// (gk_gemm_available() false) this is a plain scalar loop, correct but slow and not bit-identical.
void gk_gemm_packed(const float *packed, int m, int k, const float *b, int ldb, int n, float *c,
                    int ldc);

// The same for float64: `packed` holds gk_gemm_packed_count(m, k) doubles, 64-byte aligned; every
// element of C is the k-ordered chain acc = fma(a, b, acc) in double from +0 (bit-identical
// between the AVX2 and AVX-512 kernels).
void gk_gemm_pack_a_f64(const double *a, int lda, int m, int k, double *packed);
void gk_gemm_packed_f64(const double *packed, int m, int k, const double *b, int ldb, int n,
                        double *c, int ldc);

// im2col of one rectangle of a convolution's output (im2col.c): for each of `channels` input planes
// (`plane` elements apart) and each of `taps` taps, `rows` rows of `cols` elements, row r element j
// read from channel + offsets[t] + r·row_step + j·stride_x, written one after the other to col
// (channels·taps·rows·cols elements). Every index must be inside x: the caller keeps only taps
// that read the image for the whole rectangle.
void gk_region_gather_f32(const float *x, size_t plane, size_t row_step, int stride_x, int channels,
                          const ptrdiff_t *offsets, int taps, int rows, int cols, float *col);
void gk_region_gather_f64(const double *x, size_t plane, size_t row_step, int stride_x,
                          int channels, const ptrdiff_t *offsets, int taps, int rows, int cols,
                          double *col);

// For tests: restricts the kernel choice (of both precisions). isa = 2 asks for AVX-512, 1 for AVX2, 0 for the best
// this CPU has; a request the CPU cannot meet falls back to the best lower one. Returns the choice
// now in effect (2, 1, or 0 for none). Takes effect for calls that start afterwards.
int gk_gemm_force_isa(int isa);

// For tests: the best kernel this CPU has (2 AVX-512, 1 AVX2, 0 none), whatever is forced; changes
// nothing.
int gk_gemm_best_isa(void);

#endif
