/* Conv2d forward for tiny channel counts (LeNet layers, RGB stems): the
 * reduction C/G*KH*KW is too short for a GEMM tile to pay off, so the kernel
 * vectorises along the output width, broadcasts weights and keeps several
 * output channels in registers. */
#ifndef FC_SMALLC_H
#define FC_SMALLC_H
#include "fastconv.h"

/* x: (N,C,H,W) or (N,H,W,C) per g->layout; w: OIHW (K,C/G,KH,KW); bias: (K,) or NULL;
 * y: (N,K,OH,OW) or (N,OH,OW,K); relu: clamp at zero after the bias;
 * isa: highest FC_ISA_* level allowed. FC_EINVAL where applicable() is 0. */
int fc_smallc_conv2d_f32(const fc_conv_geom *g, const float *x, const float *w, const float *bias,
                         float *y, int relu, int isa, int nthreads);
/* Same as fc_smallc_conv2d_f32, float64 arrays. */
int fc_smallc_conv2d_f64(const fc_conv_geom *g, const double *x, const double *w,
                         const double *bias, double *y, int relu, int isa, int nthreads);

/* The same with the family forced: smallc (along W) or smallc_kvec (over K);
 * for tests and measurements. */
int fc_smallc_wvec_conv2d_f32(const fc_conv_geom *g, const float *x, const float *w,
                              const float *bias, float *y, int relu, int isa, int nthreads);
int fc_smallc_wvec_conv2d_f64(const fc_conv_geom *g, const double *x, const double *w,
                              const double *bias, double *y, int relu, int isa, int nthreads);
int fc_smallc_kvec_conv2d_f32(const fc_conv_geom *g, const float *x, const float *w,
                              const float *bias, float *y, int relu, int isa, int nthreads);
int fc_smallc_kvec_conv2d_f64(const fc_conv_geom *g, const double *x, const double *w,
                              const double *bias, double *y, int relu, int isa, int nthreads);

/* 1 where this path is expected to beat the general (igemm) path. */
int fc_smallc_conv2d_applicable(const fc_conv_geom *g);
#endif
