/* Template of the SIMD igemm micro-kernels (contract in igemm.h): MR output
 * pixels x NV vectors of output channels in registers, one weight row of NV
 * vectors loaded per input channel, each input value broadcast.
 *
 * Include from ONE ISA-specific translation unit with defined:
 *   FC_T, FC_V (vector type), FC_L (lanes), FC_MR, FC_NV, FC_NAME and
 *   FC_VLOAD(p), FC_VSET1(x), FC_VZERO(), FC_VFMA(a, b, acc) (a*b+acc),
 *   FC_VADD(a, b), FC_VMAX0(v) (max(0, v), NaN kept), FC_VSTORE(p, v),
 *   FC_VLOAD_PART(p, n), FC_VSTORE_PART(p, v, n) (first n < FC_L lanes).
 * The loops carry `#pragma GCC unroll` so the accumulator array is fully
 * scalarised into registers (otherwise gcc keeps it on the stack). */
#include "igemm.h"

#define FC_NR (FC_MR * 0 + FC_NV * FC_L)

void FC_NAME(size_t mr, size_t nr, size_t kc, size_t ks, const FC_T *const *a,
             const FC_T *w, const FC_T *bias, FC_T *y, size_t ys, uint32_t flags) {
    FC_V acc[FC_MR][FC_NV];
    if (flags & FC_FLAG_ACCUMULATE) {
#pragma GCC unroll 8
        for (int m = 0; m < FC_MR; m++)
#pragma GCC unroll 8
            for (int v = 0; v < FC_NV; v++) acc[m][v] = FC_VZERO();
    } else {
#pragma GCC unroll 8
        for (int v = 0; v < FC_NV; v++) {
            const FC_V b = FC_VLOAD(bias + v * FC_L);
#pragma GCC unroll 8
            for (int m = 0; m < FC_MR; m++) acc[m][v] = b;
        }
    }
    do {
        const FC_T *ap[FC_MR];
#pragma GCC unroll 8
        for (int m = 0; m < FC_MR; m++) ap[m] = a[m];
        a += FC_MR;
        for (size_t c = 0; c < kc; c++) {
            FC_V wv[FC_NV];
#pragma GCC unroll 8
            for (int v = 0; v < FC_NV; v++) wv[v] = FC_VLOAD(w + v * FC_L);
            w += FC_NR;
#pragma GCC unroll 8
            for (int m = 0; m < FC_MR; m++) {
                const FC_V xb = FC_VSET1(ap[m][c]);
#pragma GCC unroll 8
                for (int v = 0; v < FC_NV; v++) acc[m][v] = FC_VFMA(xb, wv[v], acc[m][v]);
            }
        }
    } while (--ks != 0);

#include "tile-store.h"
}
#undef FC_NR
