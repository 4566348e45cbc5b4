/* Depthwise NCHW grad-input ("dwgradx") micro-kernels: pixels of one gx row
 * in the vector lanes, the SW column phases of the row computed side by side
 * and interleaved in registers (stride 2: no strided stores). One call writes
 *
 *   dst[r*d_rs + j*sw + q] = bias + sum_{t < nt[q]} wt[q*ts + t] * src[q*ts + t][r*s_rs + j]
 *
 * for r < rows, q < sw and j*sw + q < nd (phase q's pixel j). src[q*ts + t]
 * is tap t of phase q: the grad_output row (zero padded by the caller) that
 * meets that phase's pixel 0; it is read only at the j the row writes.
 * nt[q] may be 0 (the phase gets the bias). */
#ifndef FC_DWGRADX_H
#define FC_DWGRADX_H
#include <stddef.h>
#include <stdint.h>

typedef void (*fc_f32_dwgradx_fn)(size_t rows, size_t nd, size_t sw, const size_t *nt,
                                  size_t ts, const float *const *src, size_t s_rs,
                                  const float *wt, float bias, float *dst, size_t d_rs);
typedef void (*fc_f64_dwgradx_fn)(size_t rows, size_t nd, size_t sw, const size_t *nt,
                                  size_t ts, const double *const *src, size_t s_rs,
                                  const double *wt, double bias, double *dst, size_t d_rs);
#endif
