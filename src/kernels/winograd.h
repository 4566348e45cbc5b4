/* Winograd F(m x m, 3x3) transform micro-kernels: the three transforms of
 * conv2d's Winograd path (src/conv/winograd-template.h), vectorised over
 * channels, for output tiles of m = 4 (op "wino4", Lavin & Gray's points 0,
 * 1, -1, 2, -2, inf) and m = 2 (op "wino2", points 0, 1, -1, inf); P = m + 2:
 *
 *   V = B^T d B   (P x P input patch d -> P*P coefficients, per input channel)
 *   U = G g G^T   (3x3 filter g -> P*P coefficients, per output channel)
 *   Y = A^T M A   (P*P products M -> m x m output tile, per output channel)
 *
 * so that Y = A^T [U (.) V] A is the 3x3 cross-correlation of d: 36 (16)
 * multiplies per 16 (4) outputs and input channel instead of 144 (36); the
 * sum over input channels of U (.) V is P*P GEMMs, done by the gemm kernels.
 * Index xi = P*a + b is coefficient (a, b); its values lie xi * stride apart.
 * One table per (dtype, ISA, m), registered in kernels.inc (mr = m); the
 * registered function returns it. Every kernel returns 1, or 0 when a value
 * it wrote is not finite (an inf or NaN in, or an overflow): the transforms
 * spread a value over the whole tile, so the driver then hands the call to
 * the direct path, which keeps IEEE semantics pixel by pixel. */
#ifndef FC_WINOGRAD_H
#define FC_WINOGRAD_H
#include "fastconv.h"

#define FC_WINO_KERNELS_TYPE(T, NAME)                                                        \
    typedef struct {                                                                         \
        /* v[xi*vs + c] = (B^T d B)[xi] for c < nc, where d[r][s][c] =                      \
         * x[o0 + r*rs + s*ps + c] if bit r of rmask and bit s of cmask are set, else 0   \
         * (padding: never read) */                                                         \
        int (*input)(const T *x, int64_t o0, int64_t rs, int64_t ps, uint32_t rmask,        \
                     uint32_t cmask, int64_t nc, T *v, int64_t vs);                         \
        /* y[i*rs + j*ps + k] = (A^T M A)[i][j] + bias[k] (relu with FC_FLAG_RELU) for      \
         * i < nrow, j < ncol, k < nc, where M[xi][k] = m[xi*ms + k]; bias may be NULL */   \
        int (*output)(const T *m, int64_t ms, int64_t nc, const T *bias, T *y, int64_t rs,  \
                      int64_t ps, int nrow, int ncol, uint32_t flags);                      \
        /* u[xi*us + k] = (G g G^T)[xi] for k < nk, where g[t][k] = w[t*ws + k],           \
         * t = 3*kh + kw */                                                                 \
        int (*weight)(const T *w, int64_t ws, int64_t nk, T *u, int64_t us);                \
    } NAME;

FC_WINO_KERNELS_TYPE(float, fc_f32_wino_kernels)
FC_WINO_KERNELS_TYPE(double, fc_f64_wino_kernels)
typedef const fc_f32_wino_kernels *(*fc_f32_wino_table_fn)(void);
typedef const fc_f64_wino_kernels *(*fc_f64_wino_table_fn)(void);
#endif
