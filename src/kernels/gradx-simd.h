/* Template of the gradx micro-kernels (contract in gradx.h): MR x NV
 * accumulator vectors per step of NV*VL pixels; one load of grad_output
 * feeds MR output channels. Include with FC_T, FC_MR, FC_NV, FC_NAME and the
 * vector macros FC_VEC, FC_VL (lanes), FC_LOAD, FC_STORE, FC_SET1, FC_ZERO(),
 * FC_FMA(a, b, c) = a*b+c; scalar code uses FC_VEC = FC_T, FC_VL = 1. */
#include "gradx.h"

void FC_NAME(size_t np, size_t nk, size_t nt, const FC_T *src, size_t ps, const int64_t *off,
             const FC_T *w, FC_T *out, size_t ldo) {
    for (size_t p = 0; p < np; p += (size_t)FC_NV * FC_VL) {
        FC_VEC a[FC_MR][FC_NV];
#pragma GCC unroll 8
        for (int m = 0; m < FC_MR; m++)
#pragma GCC unroll 16
            for (int v = 0; v < FC_NV; v++) a[m][v] = FC_ZERO();
        const FC_T *wk = w;
        for (size_t k = 0; k < nk; k++) {
            const FC_T *s = src + k * ps + p;
            for (size_t t = 0; t < nt; t++, wk += FC_MR) {
                const FC_T *st = s + off[t];
                FC_VEC xv[FC_NV];
#pragma GCC unroll 16
                for (int v = 0; v < FC_NV; v++) xv[v] = FC_LOAD(st + v * FC_VL);
#pragma GCC unroll 8
                for (int m = 0; m < FC_MR; m++) {
                    const FC_VEC b = FC_SET1(wk[m]);
#pragma GCC unroll 16
                    for (int v = 0; v < FC_NV; v++) a[m][v] = FC_FMA(b, xv[v], a[m][v]);
                }
            }
        }
#pragma GCC unroll 8
        for (int m = 0; m < FC_MR; m++)
#pragma GCC unroll 16
            for (int v = 0; v < FC_NV; v++) FC_STORE(out + m * ldo + p + v * FC_VL, a[m][v]);
    }
}
