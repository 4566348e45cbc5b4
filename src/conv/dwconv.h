/* Depthwise conv2d forward (groups == C == K, one filter per channel).
 *
 * Memory-bound: NHWC vectorises over channels (a few output pixels x channel
 * vectors in registers, taps clamped per pixel at the borders, no padded
 * copy); NCHW vectorises along W inside each channel plane. */
#ifndef FC_DWCONV_H
#define FC_DWCONV_H
#include "fastconv.h"

/* Applies when g->G == g->C == g->K (depth multiplier 1); returns FC_EINVAL otherwise.
 * x: (N,C,H,W) or (N,H,W,C) per g->layout; w: OIHW (C,1,KH,KW); bias: (C,) or NULL;
 * y: (N,C,OH,OW) or (N,OH,OW,C); relu: clamp at zero after the bias;
 * isa: highest FC_ISA_* level allowed; any stride / dilation / padding. */
int fc_dwconv2d_f32(const fc_conv_geom *g, const float *x, const float *w, const float *bias,
                    float *y, int relu, int isa, int nthreads);
/* Same as fc_dwconv2d_f32, float64 arrays. */
int fc_dwconv2d_f64(const fc_conv_geom *g, const double *x, const double *w, const double *bias,
                    double *y, int relu, int isa, int nthreads);

/* 1 if the depthwise path takes this geometry (G == C == K). */
static inline int fc_dwconv2d_applicable(const fc_conv_geom *g) {
    return g->G == g->C && g->K == g->G;
}
#endif
