/* conv2d gradients (grad input, grad weight, grad bias) and conv_transpose2d.
 *
 * grad input is a forward-style igemm over grad_output with the weights
 * repacked per "stride sector": input pixels with the same (ih+PT) mod SH,
 * (iw+PL) mod SW phase are reached by the same set of taps, so each phase is a
 * dense igemm (no scatter, no atomics; the result does not depend on the
 * thread count). grad weight is a GEMM whose reduction runs over the output
 * pixels, register-tiled by the gradw micro-kernels, with grad bias fused into
 * the pass that packs grad_output. */
#ifndef FC_CONV_GRAD_H
#define FC_CONV_GRAD_H
#include "fastconv.h"

/* gy: (N,K,OH,OW) or (N,OH,OW,K) per g->layout; w: OIHW (K,C/G,KH,KW);
 * bias: (C,) added to every pixel (conv_transpose2d) or NULL;
 * gx: (N,C,H,W) or (N,H,W,C), fully written. Pixels no tap reaches get bias or 0. */
int fc_conv2d_grad_input_f32(const fc_conv_geom *g, const float *gy, const float *w,
                             const float *bias, float *gx, int isa, int nthreads);
/* Same as fc_conv2d_grad_input_f32, float64 arrays. */
int fc_conv2d_grad_input_f64(const fc_conv_geom *g, const double *gy, const double *w,
                             const double *bias, double *gx, int isa, int nthreads);

/* d: planes x (OH,OW); gx: planes x (H,W), fully written: gx[p][oh*SH][ow*SW] =
 * d[p][oh][ow], 0 elsewhere. FC_EINVAL where (OH-1)*SH >= H or (OW-1)*SW >= W. */
int fc_expand_strided_f32(int64_t planes, int64_t OH, int64_t OW, int64_t H, int64_t W,
                          int64_t SH, int64_t SW, const float *d, float *gx, int nthreads);
/* Same as fc_expand_strided_f32, float64 arrays. */
int fc_expand_strided_f64(int64_t planes, int64_t OH, int64_t OW, int64_t H, int64_t W,
                          int64_t SH, int64_t SW, const double *d, double *gx, int nthreads);

/* gy: (N,K,OH,OW) or (N,OH,OW,K); x: (N,C,H,W) or (N,H,W,C) per g->layout;
 * gw: OIHW (K,C/G,KH,KW) or NULL; gb: (K,) or NULL. Both fully written.
 * Deterministic for a given thread count (fixed-order reduction of partials). */
int fc_conv2d_grad_weight_f32(const fc_conv_geom *g, const float *gy, const float *x,
                              float *gw, float *gb, int isa, int nthreads);
/* Same as fc_conv2d_grad_weight_f32, float64 arrays. */
int fc_conv2d_grad_weight_f64(const fc_conv_geom *g, const double *gy, const double *x,
                              double *gw, double *gb, int isa, int nthreads);
#endif
