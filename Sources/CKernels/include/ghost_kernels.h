// Inner loops of the interpreter's depthwise convolution, in C so that each is compiled for
// several x86 vector widths (AVX-512, AVX2, baseline) with the best one chosen when the program
// loads (target_clones). Floating-point contraction is off: every variant rounds after each
// multiply and add, in the same order, so results do not depend on the CPU.
#ifndef GHOST_KERNELS_H
#define GHOST_KERNELS_H

#include <stddef.h>

// dst[i] = Σ_{r<3} (w[3r]·row_r[i·s] + w[3r+1]·row_r[i·s+1] + w[3r+2]·row_r[i·s+2]),
// summed row by row; s is the stride (1 or 2).
void gk_nine_taps_f32(float *dst, const float *row0, const float *row1, const float *row2,
                      const float *w, ptrdiff_t count, ptrdiff_t stride);
void gk_nine_taps_f64(double *dst, const double *row0, const double *row1, const double *row2,
                      const double *w, ptrdiff_t count, ptrdiff_t stride);

// dst[i] = 0 + Σ_{r<5} (w[5r]·row_r[i·s] + … + w[5r+4]·row_r[i·s+4]), summed row by row, where
// row_r = first + r·row_stride: a 5×5 window in one pass (the sum the row-by-row form computes).
void gk_taps5x5_f32(float *dst, const float *first, ptrdiff_t row_stride, const float *w,
                    ptrdiff_t count, ptrdiff_t stride);
void gk_taps5x5_f64(double *dst, const double *first, ptrdiff_t row_stride, const double *w,
                    ptrdiff_t count, ptrdiff_t stride);

// The same for a 7×7 window (row_r = first + r·row_stride, r < 7, seven taps per row).
void gk_taps7x7_f32(float *dst, const float *first, ptrdiff_t row_stride, const float *w,
                    ptrdiff_t count, ptrdiff_t stride);
void gk_taps7x7_f64(double *dst, const double *first, ptrdiff_t row_stride, const double *w,
                    ptrdiff_t count, ptrdiff_t stride);

// dst[i] += Σ_{k<taps} w[k]·row[i·s + k] (left to right), for taps 3 or 5 and stride 1 or 2.
void gk_row_taps_f32(float *dst, const float *row, const float *w, ptrdiff_t count, ptrdiff_t taps,
                     ptrdiff_t stride);
void gk_row_taps_f64(double *dst, const double *row, const double *w, ptrdiff_t count, ptrdiff_t taps,
                     ptrdiff_t stride);

// dst[i] = (…((0 + w[0]·x_0) + w[1]·x_1) + …) + w[kh·kw−1]·x_{kh·kw−1}, the taps t = r·kw + c in
// row-major order, where x_t = first[r·row_stride + c·column_step + i·stride]: one output row of
// a kh×kw window whose kernel rows lie row_stride apart and columns column_step apart in the plane.
// Each output is one chain of roundings from +0 in tap order, for every kernel size and stride.
void gk_dilated_taps_f32(float *dst, const float *first, ptrdiff_t row_stride, ptrdiff_t column_step,
                         const float *w, ptrdiff_t count, ptrdiff_t stride, ptrdiff_t kernel_height,
                         ptrdiff_t kernel_width);
void gk_dilated_taps_f64(double *dst, const double *first, ptrdiff_t row_stride, ptrdiff_t column_step,
                         const double *w, ptrdiff_t count, ptrdiff_t stride, ptrdiff_t kernel_height,
                         ptrdiff_t kernel_width);

#endif
