/* Template of the dwgradw micro-kernels (contract in dwgradw.h): MR taps x NV
 * vectors of channels held in registers over the whole pixel walk. Include
 * with FC_T, FC_MR, FC_NV, FC_NAME and FC_VEC, FC_VL, FC_LOAD, FC_STORE,
 * FC_FMA(a, b, c) = a*b+c (scalar: FC_VEC = FC_T, FC_VL = 1). Taps past nt
 * are computed on tap 0's offset and never stored. */
#include "dwgradw.h"

void FC_NAME(size_t rows, size_t cols, size_t nt, const FC_T *gy, size_t gy_cs, size_t gy_rs,
             const FC_T *x, size_t x_cs, size_t x_rs, const int64_t *off, FC_T *acc,
             size_t ldacc) {
    FC_VEC a[FC_MR][FC_NV];
    int64_t o[FC_MR];
#pragma GCC unroll 32
    for (int t = 0; t < FC_MR; t++) {
        o[t] = (size_t)t < nt ? off[t] : off[0];
#pragma GCC unroll 8
        for (int v = 0; v < FC_NV; v++)
            a[t][v] = (size_t)t < nt ? FC_LOAD(acc + t * ldacc + v * FC_VL) : FC_LOAD(acc + v * FC_VL);
    }
    for (size_t r = 0; r < rows; r++) {
        const FC_T *g = gy + r * gy_rs, *xr = x + r * x_rs;
        for (size_t q = cols; q > 0; q--) {
            FC_VEC gv[FC_NV];
#pragma GCC unroll 8
            for (int v = 0; v < FC_NV; v++) gv[v] = FC_LOAD(g + v * FC_VL);
#pragma GCC unroll 32
            for (int t = 0; t < FC_MR; t++)
#pragma GCC unroll 8
                for (int v = 0; v < FC_NV; v++)
                    a[t][v] = FC_FMA(gv[v], FC_LOAD(xr + o[t] + v * FC_VL), a[t][v]);
            g += gy_cs;
            xr += x_cs;
        }
    }
#pragma GCC unroll 32
    for (int t = 0; t < FC_MR; t++)
        if ((size_t)t < nt)
#pragma GCC unroll 8
            for (int v = 0; v < FC_NV; v++) FC_STORE(acc + t * ldacc + v * FC_VL, a[t][v]);
}
