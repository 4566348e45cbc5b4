/* conv2d forward, general path: float32 and float64 drivers from one
 * template (conv2d-template.h), plus the test hook that runs one kernel. */
#include "conv2d.h"
#include "kernels/gemm.h"
#include "kernels/igemm.h"
#include "kernels/transpose.h"
#include "kernels/registry.h"
#include "workspace.h"
#include "steal.h"
#if defined(__SSE2__)
#include <xmmintrin.h> /* the weight packing's 4x4 blocks */
#endif

/* After a barrier: whether no thread flagged a failed allocation. */
static int fc_conv_none_failed(int *failed) {
    int f;
#if FC_HAVE_OPENMP
#pragma omp atomic read
#endif
    f = *failed;
    return !f;
}

#define FC_T float
#define FC_IS_F64 0
#define FC_DT "f32"
#define FC_IGEMM_FN fc_f32_igemm_fn
#define FC_GEMM_FN fc_f32_gemm_fn
#define FC_TR_FN fc_f32_transpose_fn
#define FC_SFX(name) name##_f32
#include "conv2d-template.h"
#undef FC_T
#undef FC_IS_F64
#undef FC_DT
#undef FC_IGEMM_FN
#undef FC_GEMM_FN
#undef FC_TR_FN
#undef FC_SFX

#define FC_T double
#define FC_IS_F64 1
#define FC_DT "f64"
#define FC_IGEMM_FN fc_f64_igemm_fn
#define FC_GEMM_FN fc_f64_gemm_fn
#define FC_TR_FN fc_f64_transpose_fn
#define FC_SFX(name) name##_f64
#include "conv2d-template.h"
#undef FC_T
#undef FC_IS_F64
#undef FC_DT
#undef FC_IGEMM_FN
#undef FC_GEMM_FN
#undef FC_TR_FN
#undef FC_SFX

int fc_conv2d_f32(const fc_conv_geom *g, const float *x, const float *w, const float *bias,
                  float *y, int relu, int isa, int nthreads) {
    return fc_conv2d_impl_f32(g, x, w, bias, y, relu, isa, nthreads, 0);
}

int fc_conv2d_f64(const fc_conv_geom *g, const double *x, const double *w, const double *bias,
                  double *y, int relu, int isa, int nthreads) {
    return fc_conv2d_impl_f64(g, x, w, bias, y, relu, isa, nthreads, 0);
}

int fc_conv2d_wflip_f32(const fc_conv_geom *g, const float *x, const float *w,
                        const float *bias, float *y, int relu, int isa, int nthreads) {
    return fc_conv2d_impl_f32(g, x, w, bias, y, relu, isa, nthreads, 1);
}

int fc_conv2d_wflip_f64(const fc_conv_geom *g, const double *x, const double *w,
                        const double *bias, double *y, int relu, int isa, int nthreads) {
    return fc_conv2d_impl_f64(g, x, w, bias, y, relu, isa, nthreads, 1);
}

#define FC_IGEMM_RUN(T, DT, FN)                                                               \
    const fc_kernel_info *ki = fc_kernel_by_name(name);                                       \
    if (ki == NULL || strcmp(ki->op, "igemm") != 0 || strcmp(ki->dtype, DT) != 0 ||           \
        mr < 1 || mr > (size_t)ki->mr || nr < 1 || nr > (size_t)ki->nr || kc < 1 || ks < 1)   \
        return FC_EINVAL;                                                                     \
    const T **a = fc_alloc(ks * (size_t)ki->mr * sizeof(T *));                                \
    if (a == NULL) return FC_ENOMEM;                                                          \
    for (size_t i = 0; i < ks * (size_t)ki->mr; i++) a[i] = base + offs[i];                   \
    ((FN)ki->fn)(mr, nr, kc, ks, a, w, bias, y, ys, flags);                                   \
    fc_free(a);                                                                               \
    return FC_OK;

int fc_igemm_run_f32(const char *name, size_t mr, size_t nr, size_t kc, size_t ks,
                     const float *base, const int64_t *offs, const float *w, const float *bias,
                     float *y, size_t ys, uint32_t flags) {
    FC_IGEMM_RUN(float, "f32", fc_f32_igemm_fn)
}

int fc_igemm_run_f64(const char *name, size_t mr, size_t nr, size_t kc, size_t ks,
                     const double *base, const int64_t *offs, const double *w,
                     const double *bias, double *y, size_t ys, uint32_t flags) {
    FC_IGEMM_RUN(double, "f64", fc_f64_igemm_fn)
}

#define FC_GEMM_RUN(DT, FN)                                                                    \
    const fc_kernel_info *ki = fc_kernel_by_name(name);                                        \
    if (ki == NULL || strcmp(ki->op, "gemm") != 0 || strcmp(ki->dtype, DT) != 0 || mr < 1 ||   \
        mr > (size_t)ki->mr || nr < 1 || nr > (size_t)ki->nr || kc < 1 || lda < kc ||          \
        na < ((size_t)ki->mr - 1) * lda + kc || nb < (kc - 1) * ldb + nr || ldb < nr ||        \
        ys < nr || ny < (mr - 1) * ys + nr ||                                                  \
        (bias != NULL && nbias < (size_t)((flags & FC_GEMM_BIAS_ROWS) ? ki->mr : ki->nr)))      \
        return FC_EINVAL;                                                                      \
    ((FN)ki->fn)(mr, nr, kc, a, lda, b, ldb, b, bias, y, ys, flags);                              \
    return FC_OK;

int fc_gemm_run_f32(const char *name, size_t mr, size_t nr, size_t kc, const float *a,
                    size_t na, size_t lda, const float *b, size_t nb, size_t ldb,
                    const float *bias, size_t nbias, float *y, size_t ny, size_t ys,
                    uint32_t flags) {
    FC_GEMM_RUN("f32", fc_f32_gemm_fn)
}

int fc_gemm_run_f64(const char *name, size_t mr, size_t nr, size_t kc, const double *a,
                    size_t na, size_t lda, const double *b, size_t nb, size_t ldb,
                    const double *bias, size_t nbias, double *y, size_t ny, size_t ys,
                    uint32_t flags) {
    FC_GEMM_RUN("f64", fc_f64_gemm_fn)
}

int fc_transpose_run(const char *name, const char *dtype, const void *src, size_t ns, size_t ss,
                     void *dst, size_t nd, size_t ds, size_t rows, size_t cols) {
    const fc_kernel_info *ki = fc_kernel_by_name(name);
    if (ki == NULL || strcmp(ki->op, "transpose") != 0 || strcmp(ki->dtype, dtype) != 0)
        return FC_EINVAL;
    if (rows > 0 && cols > 0 && (ss < cols || ds < rows || ns < (rows - 1) * ss + cols ||
                                 nd < (cols - 1) * ds + rows))
        return FC_EINVAL;
    if (rows == 0 || cols == 0) return FC_OK;
    if (strcmp(dtype, "f32") == 0)
        ((fc_f32_transpose_fn)ki->fn)((const float *)src, ss, (float *)dst, ds, rows, cols);
    else
        ((fc_f64_transpose_fn)ki->fn)((const double *)src, ss, (double *)dst, ds, rows, cols);
    return FC_OK;
}
