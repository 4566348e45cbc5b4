/* Template of the dwgradw micro-kernels (contract in dwgradw.h): MR taps x NV
 * vectors of channels held in registers over the whole pixel walk. Include
 * with FC_T (FC_T_IS_DOUBLE for double), FC_SIMD (see dwconv-smallc-simd.h),
 * FC_MR, FC_NV and FC_NAME. Taps past nt are computed on tap 0's offset and
 * never stored. */
#include "dwgradw.h"
#include "dwconv-smallc-simd.h"

#define FC_DWGW_NR (FC_NV * FC_V)

/* The pixel walk; `masked`: lanes >= the call's nc read as zero (masks m),
 * never touching memory there (the channel tail of an in-place NHWC block
 * may end the array). */
static inline __attribute__((always_inline)) void
fc_dwgw_walk(int masked, const fc_mask *m, size_t rows, size_t cols, const FC_T *gy,
             size_t gy_cs, size_t gy_rs, const FC_T *x, size_t x_cs, size_t x_rs,
             const int64_t *o, fc_vec a[FC_MR][FC_NV]) {
    for (size_t r = 0; r < rows; r++) {
        const FC_T *g = gy + r * gy_rs, *xr = x + r * x_rs;
        for (size_t q = cols; q > 0; q--) {
            fc_vec gv[FC_NV];
#pragma GCC unroll 8
            for (int v = 0; v < FC_NV; v++)
                gv[v] = masked ? v_loadm(g + v * FC_V, m[v]) : v_load(g + v * FC_V);
#pragma GCC unroll 32
            for (int t = 0; t < FC_MR; t++)
#pragma GCC unroll 8
                for (int v = 0; v < FC_NV; v++) {
                    const FC_T *s = xr + o[t] + v * FC_V;
                    a[t][v] = v_fma(gv[v], masked ? v_loadm(s, m[v]) : v_load(s), a[t][v]);
                }
            g += gy_cs;
            xr += x_cs;
        }
    }
}

void FC_NAME(size_t rows, size_t cols, size_t nt, size_t nc, const FC_T *gy, size_t gy_cs,
             size_t gy_rs, const FC_T *x, size_t x_cs, size_t x_rs, const int64_t *off, FC_T *acc,
             size_t ldacc) {
    fc_vec a[FC_MR][FC_NV];
    int64_t o[FC_MR];
    fc_mask m[FC_NV];
#pragma GCC unroll 8
    for (int v = 0; v < FC_NV; v++) {
        const int64_t n = (int64_t)nc - (int64_t)v * FC_V;
        m[v] = m_first(n < 0 ? 0 : n);
    }
#pragma GCC unroll 32
    for (int t = 0; t < FC_MR; t++) {
        o[t] = (size_t)t < nt ? off[t] : off[0];
#pragma GCC unroll 8
        for (int v = 0; v < FC_NV; v++)
            a[t][v] = (size_t)t < nt ? v_load(acc + t * ldacc + v * FC_V) : v_load(acc + v * FC_V);
    }
    if (nc >= (size_t)FC_DWGW_NR)
        fc_dwgw_walk(0, m, rows, cols, gy, gy_cs, gy_rs, x, x_cs, x_rs, o, a);
    else
        fc_dwgw_walk(1, m, rows, cols, gy, gy_cs, gy_rs, x, x_cs, x_rs, o, a);
#pragma GCC unroll 32
    for (int t = 0; t < FC_MR; t++)
        if ((size_t)t < nt)
#pragma GCC unroll 8
            for (int v = 0; v < FC_NV; v++) v_store(acc + t * ldacc + v * FC_V, a[t][v]);
}
