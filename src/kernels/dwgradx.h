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
#include "fastconv.h"

typedef void (*fc_f32_dwgradx_fn)(size_t rows, size_t nd, size_t sw, const size_t *nt,
                                  size_t ts, const float *const *src, size_t s_rs,
                                  const float *wt, float bias, float *dst, size_t d_rs);
typedef void (*fc_f64_dwgradx_fn)(size_t rows, size_t nd, size_t sw, const size_t *nt,
                                  size_t ts, const double *const *src, size_t s_rs,
                                  const double *wt, double bias, double *dst, size_t d_rs);

/* Depthwise NHWC grad input of a 3x3 undilated stride-2 kernel
 * ("dwgradx_nhwc", one call per run of gx rows, channels in the vector
 * lanes): gx row ih, column iw, channel c is
 *
 *   bias[c] + sum w[kh][kw][c] * gy[(ih+PT-kh)/2][(iw+PL-kw)/2][c]
 *
 * over the taps with both divisions exact and inside grad_output. The four
 * stride phases of a 2x2 block of gx come out of the same grad_output
 * vectors, so every gx pixel is written once, in address order. */
typedef struct {
    const void *gy;      /* grad_output image (OH, OW, C) */
    const void *w;       /* weights [3][3][Cp] (kernel orientation), zero past C */
    const void *bias;    /* [Cp], zeros where there is none */
    void *gx;            /* grad input image (H, W, C) */
    int64_t C, Cp, OH, OW, H, W, PT, PL;
    int64_t ih0, ih1;    /* gx rows to write */
} fc_dwgradx_nhwc_args;
typedef void (*fc_dwgradx_nhwc_fn)(const fc_dwgradx_nhwc_args *a);
#endif
