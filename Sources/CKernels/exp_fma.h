// Private to CKernels' .c files: the float32 e^x of the Sigmoid, SiLU and Conv epilogue loops
// (activation.c) and of Softmax's rows (math.c), and the clone list their loops need.
//
// e^x = 2^n · e^r, n = round(x·log₂e) by the 1.5·2²³ shift, r = x − n·ln2 with ln2 in two parts
// (Cody–Waite, both steps fused multiply-adds), e^r = (P(r)·r² + r) + 1 with Cephes' expf
// coefficients (a minimax fit of (e^r − 1 − r)/r² on |r| ≤ ln2/2) evaluated by FMAs in Estrin's
// order, P(r) = (c5 + c4·r)·r⁴ + (c3 + c2·r)·r² + (c1 + c0·r): 3 dependent FMAs instead of 6
// multiply-add pairs. These loops were latency-bound on that chain (about 100 cycles a vector,
// more than the out-of-order window hides): the SiLU loop went from 1.22 to 0.95 ns an element
// on an L1-resident plane. 2^n is applied as two factors 2^⌊n/2⌋ · 2^(n−⌊n/2⌋), each a normal
// float32, so subnormal results round once. x is clamped to [−104, 89] first (beyond it e^x is
// 0 or +inf in float32, which the product gives); NaN in, NaN out.
//
// fmaf is exactly rounded wherever it runs (one instruction in the FMA clones, glibc's software
// fmaf in the baseline clone), so every clone gives the same bits. Against double-precision e^x
// it rounds as well as the unfused Horner form it replaced: 99.2% of every 61st float32 in
// [−104, 88] within half an ulp for both, and SiLU within 2.7 ulp of x/(1 + e^(−x)) for both.
#ifndef GHOST_EXP_FMA_H
#define GHOST_EXP_FMA_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "clones.h"

// Clones that name whole x86-64 levels, because the "avx2" target alone does not include FMA
// (v3: AVX2 + FMA; v4: AVX-512).
#if defined(__x86_64__) && defined(__linux__) && !defined(GK_SANITIZED)
#define GK_CLONES_FMA __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define GK_CLONES_FMA
#endif

// 2^k for k in [-126, 127], from its exponent bits.
static inline __attribute__((always_inline)) float gk_exp_fma_power_of_two(int32_t k) {
    int32_t bits = (k + 127) << 23;
    float value;
    memcpy(&value, &bits, sizeof value);
    return value;
}

static inline __attribute__((always_inline)) float gk_exp_fma_f32(float x) {
    // NaN fails both comparisons and becomes −104 here: a finite value for the integer steps.
    float c = x >= -104.0f ? x : -104.0f;
    c = c <= 89.0f ? c : 89.0f;
    // round(c·log2 e) by the 1.5·2^23 shift (|c·log2 e| < 2^22, round to nearest even).
    float n = (c * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
    float r = fmaf(n, 2.12194440e-4f, fmaf(n, -0.693359375f, c));
    float r2 = r * r;
    float high = fmaf(1.9875691500e-4f, r, 1.3981999507e-3f);
    float middle = fmaf(8.3334519073e-3f, r, 4.1665795894e-2f);
    float low = fmaf(1.6666665459e-1f, r, 5.0000001201e-1f);
    float p = fmaf(fmaf(high, r2, middle), r2, low);
    float e = fmaf(p, r2, r) + 1.0f;
    int32_t k = (int32_t)n, half = k >> 1;
    float y = (e * gk_exp_fma_power_of_two(half)) * gk_exp_fma_power_of_two(k - half);
    return x != x ? x : y;
}

#endif
