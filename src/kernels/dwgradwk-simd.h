/* Template of the dwgradwk micro-kernels (contract in dwgradw.h): KR output
 * channels x TR taps of a one-input-channel grad weight, pixels in the
 * vector lanes, all KR*TR sums in registers over the walk: each input vector
 * is loaded once for its KR FMAs and each grad_output vector once for its TR
 * (dwgradw walks one channel's plane per call and reloads the input plane for
 * every output channel: LeNet's 1 -> 6). Include with FC_T (FC_T_IS_DOUBLE
 * for double), FC_SIMD (see dwconv-smallc-simd.h), FC_KR, FC_TR and FC_NAME.
 * Channels past nk read channel 0's plane and taps past nt tap 0's offset;
 * neither is stored. */
#include "dwgradw.h"
#include "dwconv-smallc-simd.h"

void FC_NAME(size_t nb, size_t nk, size_t nt, const FC_T *gy, size_t gy_ks, const FC_T *x,
             const int64_t *off, FC_T *acc, size_t ld_k) {
    fc_vec a[FC_KR][FC_TR];
    const FC_T *g[FC_KR], *xs[FC_TR];
#pragma GCC unroll 16
    for (int k = 0; k < FC_KR; k++) {
        g[k] = gy + ((size_t)k < nk ? k * gy_ks : 0);
#pragma GCC unroll 16
        for (int t = 0; t < FC_TR; t++)
            a[k][t] = (size_t)k < nk && (size_t)t < nt ? v_load(acc + k * ld_k + t * FC_V)
                                                       : v_zero();
    }
#pragma GCC unroll 16
    for (int t = 0; t < FC_TR; t++) xs[t] = x + ((size_t)t < nt ? off[t] : off[0]);
    for (size_t b = 0; b < nb; b++) {
        fc_vec gv[FC_KR];
#pragma GCC unroll 16
        for (int k = 0; k < FC_KR; k++) gv[k] = v_load(g[k] + b * FC_V);
#pragma GCC unroll 16
        for (int t = 0; t < FC_TR; t++) {
            fc_vec xv = v_load(xs[t] + b * FC_V);
#if FC_SIMD > 0
            __asm__("" : "+v"(xv)); /* one load for its KR FMAs */
#endif
#pragma GCC unroll 16
            for (int k = 0; k < FC_KR; k++) a[k][t] = v_fma(gv[k], xv, a[k][t]);
        }
    }
#pragma GCC unroll 16
    for (int k = 0; k < FC_KR; k++)
#pragma GCC unroll 16
        for (int t = 0; t < FC_TR; t++)
            if ((size_t)k < nk && (size_t)t < nt) v_store(acc + k * ld_k + t * FC_V, a[k][t]);
}
