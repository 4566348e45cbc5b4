/* Transpose micro-kernels ("transpose"): the layout changes of the conv2d
 * drivers (NCHW channel planes <-> pixel-major rows, OIHW filters -> NHWC
 * weight panels, pixel panels). One call computes
 *
 *   dst[j*ds + i] = src[i*ss + j]   for i < rows, j < cols
 *
 * element strides ss, ds (>= cols and rows respectively, or any value when
 * the regions do not overlap); src and dst never overlap. */
#ifndef FC_TRANSPOSE_H
#define FC_TRANSPOSE_H
#include "fastconv.h"

/* rows x cols of src (row stride ss) into dst (row stride ds), transposed */
typedef void (*fc_f32_transpose_fn)(const float *src, size_t ss, float *dst, size_t ds,
                                    size_t rows, size_t cols);
/* the same for doubles */
typedef void (*fc_f64_transpose_fn)(const double *src, size_t ss, double *dst, size_t ds,
                                    size_t rows, size_t cols);
#endif
