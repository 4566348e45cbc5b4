/* Depthwise conv2d drivers (placeholder until the kernels land). */
#include "dwconv.h"

int fc_dwconv2d_f32(const fc_conv_geom *g, const float *x, const float *w, const float *bias,
                    float *y, int relu, int isa, int nthreads) {
    (void)g; (void)x; (void)w; (void)bias; (void)y; (void)relu; (void)isa; (void)nthreads;
    return FC_EINVAL;
}
int fc_dwconv2d_f64(const fc_conv_geom *g, const double *x, const double *w, const double *bias,
                    double *y, int relu, int isa, int nthreads) {
    (void)g; (void)x; (void)w; (void)bias; (void)y; (void)relu; (void)isa; (void)nthreads;
    return FC_EINVAL;
}
