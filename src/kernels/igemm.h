/* Indirect GEMM ("igemm") micro-kernels: the workhorse of conv2d forward and
 * of grad-input (XNNPACK's scheme). One call computes an MR x NR output tile:
 *
 *   y[m][n] = bias[n] + sum_{t < ks} sum_{c < kc} a[t*MR + m][c] * w[t][c][n]
 *
 * a     : indirection buffer, ks*MR pointers, tap-major; each points at kc
 *         contiguous input values (or at a zero vector for a padded tap).
 *         Rows m >= mr may hold any valid pointer (e.g. a copy of row 0).
 * w     : packed weights of one NR-wide block of output channels,
 *         [ks][kc][NR] contiguous, zero-padded past the valid columns.
 * bias  : NR values, zero-padded (never NULL; pass zeros).
 * y     : row m at y + m*ys, columns contiguous; only m < mr, n < nr written.
 * flags : FC_FLAG_ACCUMULATE adds to y instead of bias; FC_FLAG_RELU clamps
 *         at zero after the sum (applied to the final value).
 */
#ifndef FC_IGEMM_H
#define FC_IGEMM_H
#include "fastconv.h"

typedef void (*fc_f32_igemm_fn)(size_t mr, size_t nr, size_t kc, size_t ks,
                                const float *const *a, const float *w,
                                const float *bias, float *y, size_t ys, uint32_t flags);
typedef void (*fc_f64_igemm_fn)(size_t mr, size_t nr, size_t kc, size_t ks,
                                const double *const *a, const double *w,
                                const double *bias, double *y, size_t ys, uint32_t flags);
#endif
