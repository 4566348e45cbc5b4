/* Gradient-weight ("gradw") micro-kernels: a GEMM whose reduction runs over
 * output pixels. One call adds to an MR x NR tile of accumulators:
 *
 *   acc[m][n] += sum_{r < rows} sum_{c < cols} gy[r*gy_rs + c*gy_cs + m*gy_ms]
 *                                              * x[r*x_rs + c*x_cs + n]
 *
 * gy  : grad_output, MR output channels gy_ms apart: packed (gy_ms = 1,
 *       zero-padded channels), NHWC in place (gy_ms = 1, gy_cs = K) or NCHW
 *       in place (gy_ms = the plane size, gy_cs = 1): no transposing copy.
 * x   : input, NR contiguous values per pixel (channels, or kw-major
 *       (kw, channel) runs); may run past the valid columns into readable,
 *       finite memory: those accumulator columns are discarded by the driver.
 * acc : row m at acc + m*acc_s, NR contiguous values; all MR x NR are read and
 *       written (the driver pads its accumulator to whole tiles).
 * Pixels are walked rows x cols so a strided conv needs no pointer list.
 */
#ifndef FC_GRADW_H
#define FC_GRADW_H
#include "fastconv.h"

typedef void (*fc_f32_gradw_fn)(size_t rows, size_t cols, const float *gy, size_t gy_cs,
                                size_t gy_rs, size_t gy_ms, const float *x, size_t x_cs,
                                size_t x_rs, float *acc, size_t acc_s);
typedef void (*fc_f64_gradw_fn)(size_t rows, size_t cols, const double *gy, size_t gy_cs,
                                size_t gy_rs, size_t gy_ms, const double *x, size_t x_cs,
                                size_t x_rs, double *acc, size_t acc_s);
#endif
