/* conv2d forward, general path: indirect GEMM (igemm micro-kernels) over
 * tiles of output pixels x blocks of output channels, any geometry. */
#ifndef FC_CONV2D_H
#define FC_CONV2D_H
#include "fastconv.h"

/* x: (N,C,H,W) or (N,H,W,C) per g->layout, read in place; w: OIHW (K,C/G,KH,KW);
 * bias: (K,) or NULL; y: (N,K,OH,OW) or (N,OH,OW,K), fully written; relu: clamp
 * at zero after the bias; isa: highest FC_ISA_* level allowed. Every array
 * C-contiguous. Returns FC_OK, FC_ENOMEM or FC_EINVAL (bad geometry). */
int fc_conv2d_f32(const fc_conv_geom *g, const float *x, const float *w, const float *bias,
                  float *y, int relu, int isa, int nthreads);
/* Same as fc_conv2d_f32, float64 arrays. */
int fc_conv2d_f64(const fc_conv_geom *g, const double *x, const double *w, const double *bias,
                  double *y, int relu, int isa, int nthreads);

/* fc_conv2d_f32 with the weight of the conv whose input gradient this conv
 * computes: w is (C, K/G, KH, KW) (this geometry's C and K) and the conv
 * uses w'[g*K/G + k][c][t] = w[g*C/G + c][k][KH*KW-1-t] (flipped taps, in
 * and out channels swapped per group), packed straight from w. */
int fc_conv2d_wflip_f32(const fc_conv_geom *g, const float *x, const float *w,
                        const float *bias, float *y, int relu, int isa, int nthreads);
/* Same as fc_conv2d_wflip_f32, float64 arrays. */
int fc_conv2d_wflip_f64(const fc_conv_geom *g, const double *x, const double *w,
                        const double *bias, double *y, int relu, int isa, int nthreads);

/* Test hook: run the igemm kernel `name` once. a[t*MR + m] = base + offs[t*MR + m]
 * (ks*MR offsets, MR the kernel's), w: [ks][kc][NR], bias: NR, y: mr rows of
 * stride ys. FC_EINVAL if no such kernel of that dtype. */
int fc_igemm_run_f32(const char *name, size_t mr, size_t nr, size_t kc, size_t ks,
                     const float *base, const int64_t *offs, const float *w, const float *bias,
                     float *y, size_t ys, uint32_t flags);
/* Same as fc_igemm_run_f32, float64 arrays. */
int fc_igemm_run_f64(const char *name, size_t mr, size_t nr, size_t kc, size_t ks,
                     const double *base, const int64_t *offs, const double *w,
                     const double *bias, double *y, size_t ys, uint32_t flags);

/* Test hook: run the gemm kernel `name` once (gemm.h): a: MR rows of stride
 * lda (na values), b: kc rows of stride ldb (nb values), bias: NULL, NR or
 * (FC_GEMM_BIAS_ROWS) MR values (nbias), y: mr rows of stride ys (ny values).
 * FC_EINVAL if no such kernel of that dtype or a buffer is too small. */
int fc_gemm_run_f32(const char *name, size_t mr, size_t nr, size_t kc, const float *a,
                    size_t na, size_t lda, const float *b, size_t nb, size_t ldb,
                    const float *bias, size_t nbias, float *y, size_t ny, size_t ys,
                    uint32_t flags);
/* Same as fc_gemm_run_f32, float64 arrays. */
int fc_gemm_run_f64(const char *name, size_t mr, size_t nr, size_t kc, const double *a,
                    size_t na, size_t lda, const double *b, size_t nb, size_t ldb,
                    const double *bias, size_t nbias, double *y, size_t ny, size_t ys,
                    uint32_t flags);

/* Test hook: run the transpose kernel `name` once (transpose.h): src rows x
 * cols of stride ss (ns values), dst cols x rows of stride ds (nd values).
 * FC_EINVAL if no such kernel of that dtype or a buffer is too small. */
int fc_transpose_run(const char *name, const char *dtype, const void *src, size_t ns, size_t ss,
                     void *dst, size_t nd, size_t ds, size_t rows, size_t cols);
#endif
