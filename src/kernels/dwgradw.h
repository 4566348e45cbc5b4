/* Depthwise grad-weight ("dwgradw") micro-kernels: channels in the vector
 * lanes, one accumulator row per kernel tap. One call adds
 *
 *   acc[t*ldacc + c] += sum_{r < rows} sum_{q < cols}
 *                       gy[r*gy_rs + q*gy_cs + c] * x[r*x_rs + q*x_cs + off[t] + c]
 *
 * for t < nt <= MR (the kernel's mr) and c < NR (its nr), NR consecutive
 * channels of grad_output and of the input (a zero-padded band, or the
 * caller's NHWC arrays in place). Lanes c >= nc (nc <= NR) of gy and x are
 * never read (taken as zeros): an in-place channel tail may end the arrays.
 * acc holds NR columns in every row, those lanes included.
 * off[t]: element offset of tap t from x. The sum runs in a fixed order,
 * whatever thread calls it. */
#ifndef FC_DWGRADW_H
#define FC_DWGRADW_H
#include "fastconv.h"

typedef void (*fc_f32_dwgradw_fn)(size_t rows, size_t cols, size_t nt, size_t nc,
                                  const float *gy, size_t gy_cs, size_t gy_rs, const float *x,
                                  size_t x_cs, size_t x_rs, const int64_t *off, float *acc,
                                  size_t ldacc);
typedef void (*fc_f64_dwgradw_fn)(size_t rows, size_t cols, size_t nt, size_t nc,
                                  const double *gy, size_t gy_cs, size_t gy_rs, const double *x,
                                  size_t x_cs, size_t x_rs, const int64_t *off, double *acc,
                                  size_t ldacc);

/* dwgradwk: the grad weight of one input channel for nk <= MR output
 * channels and nt <= NR/lanes taps at once (op mr = KR channels, nr = TR
 * taps), pixels in the vector lanes (V of them, V = the kernel's lanes):
 *
 *   acc[k*ld_k + t*V + l] += sum_{b < nb} gy[k*gy_ks + b*V + l] * x[b*V + off[t] + l]
 *
 * for k < nk, t < nt, l < V; in a fixed order whatever thread calls it. */
typedef void (*fc_f32_dwgradwk_fn)(size_t nb, size_t nk, size_t nt, const float *gy,
                                   size_t gy_ks, const float *x, const int64_t *off, float *acc,
                                   size_t ld_k);
typedef void (*fc_f64_dwgradwk_fn)(size_t nb, size_t nk, size_t nt, const double *gy,
                                   size_t gy_ks, const double *x, const int64_t *off, double *acc,
                                   size_t ld_k);
#endif
