// OpenBLAS, loaded when the interpreter first needs it rather than linked into the program.
//
// Linked, libopenblas starts its worker threads when the program starts, and they spin on the
// other cores for about a tenth of a second: a command that never multiplies a matrix (fuse,
// inspect, convert) would pay for that, and for relocating OpenBLAS and libgfortran, on every
// run. Loaded on demand, OPENBLAS_NUM_THREADS can also be set before its threads exist.
#ifndef GHOST_BLAS_H
#define GHOST_BLAS_H

#include <stdbool.h>

// Loads libopenblas (soname libopenblas.so.0, Debian package libopenblas0) with `threads`
// threads (the OPENBLAS_NUM_THREADS environment variable, when set, wins at load time) and
// returns true, or false with a reason in gk_blas_error(). Safe to call from several threads and
// more than once; later calls only set the thread count.
bool gk_blas_load(int threads);
const char *gk_blas_error(void);

// Row-major C = alpha·op(A)·op(B) + beta·C; valid only after gk_blas_load returned true.
void gk_sgemm(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float *a, int lda,
              const float *b, int ldb, float beta, float *c, int ldc);
void gk_dgemm(bool trans_a, bool trans_b, int m, int n, int k, double alpha, const double *a,
              int lda, const double *b, int ldb, double beta, double *c, int ldc);

#endif
