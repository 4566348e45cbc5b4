/* Template of the portable gradw micro-kernel (see gradw.h for the contract).
 * Include with FC_T (element type), FC_MR, FC_NR and FC_NAME defined. */
#include "gradw.h"

void FC_NAME(size_t rows, size_t cols, const FC_T *gy, size_t gy_cs, size_t gy_rs,
             size_t gy_ms, const FC_T *x, size_t x_cs, size_t x_rs, FC_T *acc, size_t acc_s) {
    FC_T a[FC_MR][FC_NR];
    for (size_t m = 0; m < FC_MR; m++)
        for (size_t n = 0; n < FC_NR; n++) a[m][n] = acc[m * acc_s + n];
    for (size_t r = 0; r < rows; r++) {
        const FC_T *g = gy + r * gy_rs, *xr = x + r * x_rs;
        for (size_t c = 0; c < cols; c++, g += gy_cs, xr += x_cs)
            for (size_t m = 0; m < FC_MR; m++) {
                const FC_T b = g[m * gy_ms];
                for (size_t n = 0; n < FC_NR; n++) a[m][n] += b * xr[n];
            }
    }
    for (size_t m = 0; m < FC_MR; m++)
        for (size_t n = 0; n < FC_NR; n++) acc[m * acc_s + n] = a[m][n];
}
