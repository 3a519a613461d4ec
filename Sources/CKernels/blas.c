// See ghost_blas.h.
#include "ghost_blas.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

// CBLAS enumerations (the values every CBLAS uses).
enum { ROW_MAJOR = 101, NO_TRANS = 111, TRANS = 112 };

typedef void (*sgemm_fn)(int, int, int, int, int, int, float, const float *, int, const float *,
                         int, float, float *, int);
typedef void (*dgemm_fn)(int, int, int, int, int, int, double, const double *, int,
                         const double *, int, double, double *, int);
typedef void (*set_threads_fn)(int);

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static sgemm_fn sgemm;
static dgemm_fn dgemm;
static set_threads_fn set_threads;
static char error[512];

bool gk_blas_load(int threads) {
    if (threads < 1) threads = 1;
    pthread_mutex_lock(&lock);
    if (!sgemm) {
        char count[16];
        snprintf(count, sizeof count, "%d", threads);
        setenv("OPENBLAS_NUM_THREADS", count, 0);  // only if the user did not set it
        const char *names[] = {"libopenblas.so.0", "libopenblas.so"};
        void *library = NULL;
        for (int i = 0; i < 2 && !library; i++) library = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
        if (!library) {
            snprintf(error, sizeof error,
                     "cannot load OpenBLAS (libopenblas.so.0; Debian package libopenblas0): %s",
                     dlerror());
        } else {
            sgemm_fn s = (sgemm_fn)dlsym(library, "cblas_sgemm");
            dgemm_fn d = (dgemm_fn)dlsym(library, "cblas_dgemm");
            set_threads = (set_threads_fn)dlsym(library, "openblas_set_num_threads");
            if (!s || !d) {
                snprintf(error, sizeof error, "OpenBLAS has no cblas_sgemm/cblas_dgemm");
            } else {
                dgemm = d;
                sgemm = s;
            }
        }
    }
    bool loaded = sgemm != NULL;
    if (loaded && set_threads) set_threads(threads);
    pthread_mutex_unlock(&lock);
    return loaded;
}

const char *gk_blas_error(void) { return error; }

void gk_sgemm(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float *a, int lda,
              const float *b, int ldb, float beta, float *c, int ldc) {
    sgemm(ROW_MAJOR, trans_a ? TRANS : NO_TRANS, trans_b ? TRANS : NO_TRANS, m, n, k, alpha, a, lda,
          b, ldb, beta, c, ldc);
}

void gk_dgemm(bool trans_a, bool trans_b, int m, int n, int k, double alpha, const double *a,
              int lda, const double *b, int ldb, double beta, double *c, int ldc) {
    dgemm(ROW_MAJOR, trans_a ? TRANS : NO_TRANS, trans_b ? TRANS : NO_TRANS, m, n, k, alpha, a, lda,
          b, ldb, beta, c, ldc);
}
