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
#include <string.h>
#include "registry.h"

/* The gemm kernel of dtype dt at the top ISA level <= isa whose tiles pad an
 * M x NC product least (*cost: the padded multiply-adds, weighted); NULL if
 * none. A tall tile (24x16) loads one vector per 24 broadcasts: 1 thread,
 * NCHW 1x1 1024->256 @14 took 1.25-1.3x 12x32's time for 7% less padding,
 * so it pays a third more. */
static inline const fc_kernel_info *fc_gemm_pick(const char *dt, int isa, int64_t M, int64_t NC,
                                                 int64_t *cost) {
    const fc_kernel_info *top = fc_kernel_select("gemm", dt, isa), *ki = NULL;
    int64_t best = 0;
    for (size_t i = 0; top != NULL && i < fc_num_kernels; i++) {
        const fc_kernel_info *k = &fc_kernels[i];
        if (strcmp(k->op, "gemm") != 0 || strcmp(k->dtype, dt) != 0 || k->isa != top->isa)
            continue;
        int64_t c = fc_cdiv(M, k->mr) * k->mr * (fc_cdiv(NC, k->nr) * k->nr);
        if (k->mr > 12) c += c / 3;
        if (ki == NULL || c < best) {
            ki = k;
            best = c;
        }
    }
    if (cost != NULL) *cost = best;
    return ki;
}
#endif
