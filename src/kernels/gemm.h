/* Strided GEMM ("gemm") micro-kernels: the 1x1 stride-1 unpadded conv2d of
 * both layouts, with both operands read in place. One call computes an
 * MR x NR output tile:
 *
 *   y[m][n] = init[m][n] + sum_{c < kc} a[m*lda + c] * b[c*ldb + n]
 *
 * a     : MR rows of kc values, row stride lda; every row readable (rows
 *         m >= mr are computed, never stored: the driver pads short tiles).
 * b     : kc rows of stride ldb; only columns n < nr are read.
 * pf    : kc rows of stride ldb whose first NR columns are prefetched (a
 *         hint: the driver's next tile, or b itself), never read.
 * bias  : NULL (zero), NR values along n, or with FC_GEMM_BIAS_ROWS MR values
 *         along m (all readable).
 * y     : row m at y + m*ys, columns contiguous; only m < mr, n < nr written.
 * flags : FC_FLAG_ACCUMULATE adds to y instead of the bias; FC_FLAG_RELU
 *         clamps at zero after the sum; FC_GEMM_BIAS_ROWS as above.
 * NCHW: rows are output channels (a: weights), columns pixels (b: input
 * planes). NHWC: rows are pixels (a: input), columns output channels (b:
 * weights transposed once).
 */
#ifndef FC_GEMM_H
#define FC_GEMM_H
#include "fastconv.h"

enum { FC_GEMM_BIAS_ROWS = 4u };

typedef void (*fc_f32_gemm_fn)(size_t mr, size_t nr, size_t kc, const float *a, size_t lda,
                               const float *b, size_t ldb, const float *pf, const float *bias, float *y,
                               size_t ys, uint32_t flags);
typedef void (*fc_f64_gemm_fn)(size_t mr, size_t nr, size_t kc, const double *a, size_t lda,
                               const double *b, size_t ldb, const double *pf, const double *bias, double *y,
                               size_t ys, uint32_t flags);
#endif
