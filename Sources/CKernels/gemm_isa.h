// Private to CKernels' GEMM files: the kernel choice that gemm.c detects (and tests may force),
// shared so the float32 and float64 kernels always agree on it.
#ifndef GHOST_GEMM_ISA_H
#define GHOST_GEMM_ISA_H

// 2 AVX-512F, 1 AVX2+FMA, 0 none: what gk_gemm_force_isa last chose, else the best this CPU has.
int gk_gemm_isa_in_effect(void);

#endif
