/* Template of the SIMD gradw micro-kernels (see gradw.h for the contract):
 * MR broadcast grad_output values x NV vectors of input, MR*NV accumulators
 * held in registers across the whole pixel loop.
 * Include with FC_T, FC_MR, FC_NV, FC_NAME and the vector macros FC_VEC,
 * FC_VL (lanes), FC_LOAD, FC_STORE, FC_SET1, FC_FMA(a, b, c) = a*b+c. */
#include "gradw.h"

/* The body, inlined twice below: with gy_ms == 1 the MR broadcasts are
 * constant offsets from one pointer; a runtime gy_ms needs an index register
 * per row, and for MR = 12 the loop counter then lives on the stack (~20%). */
static inline __attribute__((always_inline)) void
fc_gradw_body(size_t rows, size_t cols, const FC_T *gy, size_t gy_cs, size_t gy_rs,
              size_t gy_ms, const FC_T *x, size_t x_cs, size_t x_rs, FC_T *acc, size_t acc_s) {
    FC_VEC a[FC_MR][FC_NV];
#pragma GCC unroll 32
    for (int m = 0; m < FC_MR; m++)
#pragma GCC unroll 8
        for (int v = 0; v < FC_NV; v++) a[m][v] = FC_LOAD(acc + m * acc_s + v * FC_VL);
    for (size_t r = 0; r < rows; r++) {
        const FC_T *g = gy + r * gy_rs, *xr = x + r * x_rs;
        for (size_t c = cols; c > 0; c--) {
            FC_VEC xv[FC_NV];
#pragma GCC unroll 8
            for (int v = 0; v < FC_NV; v++) xv[v] = FC_LOAD(xr + v * FC_VL);
#pragma GCC unroll 32
            for (int m = 0; m < FC_MR; m++) {
                const FC_VEC b = FC_SET1(g[m * gy_ms]);
#pragma GCC unroll 8
                for (int v = 0; v < FC_NV; v++) a[m][v] = FC_FMA(b, xv[v], a[m][v]);
            }
            g += gy_cs;
            xr += x_cs;
        }
    }
#pragma GCC unroll 32
    for (int m = 0; m < FC_MR; m++)
#pragma GCC unroll 8
        for (int v = 0; v < FC_NV; v++) FC_STORE(acc + m * acc_s + v * FC_VL, a[m][v]);
}

void FC_NAME(size_t rows, size_t cols, const FC_T *gy, size_t gy_cs, size_t gy_rs,
             size_t gy_ms, const FC_T *x, size_t x_cs, size_t x_rs, FC_T *acc, size_t acc_s) {
    if (gy_ms == 1)
        fc_gradw_body(rows, cols, gy, gy_cs, gy_rs, 1, x, x_cs, x_rs, acc, acc_s);
    else
        fc_gradw_body(rows, cols, gy, gy_cs, gy_rs, gy_ms, x, x_cs, x_rs, acc, acc_s);
}
