// Private to CKernels' .c files: GK_CLONES builds a function for AVX-512, AVX2 and baseline x86-64
// (target_clones), the best chosen when the program loads.
//
// target_clones dispatches through an ifunc resolver, which runs while the program is being
// relocated; a sanitizer-instrumented resolver runs before the sanitizer's runtime exists and
// crashes, so sanitized builds (scripts/sanitizers.sh, fuzzing) use the baseline loop only.
#ifndef GHOST_CLONES_H
#define GHOST_CLONES_H

#if defined(__has_feature)
#if __has_feature(thread_sanitizer) || __has_feature(address_sanitizer)
#define GK_SANITIZED 1
#endif
#endif

#if defined(__x86_64__) && defined(__linux__) && !defined(GK_SANITIZED)
#define GK_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define GK_CLONES
#endif

#endif
