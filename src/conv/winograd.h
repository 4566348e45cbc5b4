/* conv2d forward, Winograd path: F(4x4, 3x3) or F(2x2, 3x3) for 3x3 stride-1 convolutions
 * of one group, any padding and dilation (a dilated conv is DH*DW undilated
 * ones on the stride phases of its output), both layouts. */
#ifndef FC_WINOGRAD_CONV_H
#define FC_WINOGRAD_CONV_H
#include "fastconv.h"

/* Whether the path takes geometry g: 3x3, stride 1, one group. */
int fc_wino_conv2d_applicable(const fc_conv_geom *g);

/* x: (N,C,H,W) or (N,H,W,C) per g->layout; w: OIHW (K,C,3,3); bias: (K,) or
 * NULL; y: (N,K,OH,OW) or (N,OH,OW,K), fully written on FC_OK; relu: clamp at
 * zero after the bias; isa: highest FC_ISA_* level allowed. FC_EINVAL where
 * the path does not apply or a transformed value is not finite (an inf or NaN
 * in x or w, or an overflow: y is then partly written and the caller takes
 * the direct path); FC_ENOMEM. */
int fc_wino_conv2d_f32(const fc_conv_geom *g, const float *x, const float *w,
                       const float *bias, float *y, int relu, int isa, int nthreads);
/* Same as fc_wino_conv2d_f32, float64 arrays. */
int fc_wino_conv2d_f64(const fc_conv_geom *g, const double *x, const double *w,
                       const double *bias, double *y, int relu, int isa, int nthreads);

/* fc_wino_conv2d_f32 with F(2x2, 3x3): 2.25x fewer multiply-adds than the
 * direct conv instead of 4x, transformed weights of 16*C*K values instead of
 * 36*C*K (layers with few pixels, where making those dominates). */
int fc_wino2_conv2d_f32(const fc_conv_geom *g, const float *x, const float *w,
                        const float *bias, float *y, int relu, int isa, int nthreads);
/* Same as fc_wino2_conv2d_f32, float64 arrays. */
int fc_wino2_conv2d_f64(const fc_conv_geom *g, const double *x, const double *w,
                        const double *bias, double *y, int relu, int isa, int nthreads);
/* fc_wino2_conv2d_f32 with the weight of the conv whose input gradient this
 * conv computes, as fc_wino_conv2d_wflip_f32. */
int fc_wino2_conv2d_wflip_f32(const fc_conv_geom *g, const float *x, const float *w,
                              const float *bias, float *y, int relu, int isa, int nthreads);
/* Same as fc_wino2_conv2d_wflip_f32, float64 arrays. */
int fc_wino2_conv2d_wflip_f64(const fc_conv_geom *g, const double *x, const double *w,
                              const double *bias, double *y, int relu, int isa, int nthreads);

/* fc_wino_conv2d_f32 with the weight of the conv whose input gradient this
 * conv computes: w is (C, K, 3, 3) (this geometry's C and K) and the conv uses
 * w'[k][c][t] = w[c][k][8 - t] (flipped taps, channels swapped), transformed
 * straight from w (as fc_conv2d_wflip_f32 packs it). */
int fc_wino_conv2d_wflip_f32(const fc_conv_geom *g, const float *x, const float *w,
                             const float *bias, float *y, int relu, int isa, int nthreads);
/* Same as fc_wino_conv2d_wflip_f32, float64 arrays. */
int fc_wino_conv2d_wflip_f64(const fc_conv_geom *g, const double *x, const double *w,
                             const double *bias, double *y, int relu, int isa, int nthreads);
#endif
