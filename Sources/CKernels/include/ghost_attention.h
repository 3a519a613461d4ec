// The second product of an attention head, O = P·V with P (the softmax of the scores) a block of
// rows read in place and V narrow (a head's width, 24 columns at most): every element of O is
// the k-ordered chain acc = fma(p[r][j], v[j][c], acc) from +0 over j = 0, 1, …, k − 1, the same
// rounding as ghost_gemm.h's packed product, so either gives the same bits. Unlike it, P is not
// packed first (its rows are in cache; the broadcasts read them where they are), and the tiles
// keep 12 accumulators for 8 to 24 columns (12 rows × 8, 6 × 16, 4 × 24), where the packed
// kernel's 4 × 16 tile for a 16-wide V ran latency-bound on 8.
#ifndef GHOST_ATTENTION_H
#define GHOST_ATTENTION_H

#include <stdbool.h>
#include <stddef.h>

// True when this CPU has the kernel (x86-64 with AVX2 and FMA).
bool gk_attention_narrow_available(void);

// out[r][c] = Σ_j p[r·ldp + j]·v[j·ldv + c] for r < rows, c < n, in the order above. n is 1 … 24,
// rows and k at least 1; out has row stride ldo. Only the first n columns of v and out are
// touched. Without the kernel (gk_attention_narrow_available() false) nothing is written.
void gk_attention_narrow_f32(const float *p, ptrdiff_t ldp, ptrdiff_t rows, ptrdiff_t k, const float *v,
                             ptrdiff_t ldv, ptrdiff_t n, float *out, ptrdiff_t ldo);

#endif
