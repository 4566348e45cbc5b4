/* Template of the dwconv_nhwc micro-kernel (contract in dwconv-kernels.h).
 * Include with FC_T, FC_SIMD (see dwconv-smallc-simd.h) and FC_NAME defined.
 * Register tile: FC_DWH_P output pixels x FC_DWH_CB channel vectors; pixels
 * whose window overlaps the left/right padding go one at a time with their
 * kernel columns clamped. */
#include "dwconv-kernels.h"
#include "dwconv-smallc-simd.h"

#define FC_DWH_P 4
#define FC_DWH_CB 4
#define FC_INLINE static inline __attribute__((always_inline))

/* P pixels from `ow` x cb vectors from channel c; kernel rows [kh0, kh1) and
 * columns [kw0, kw1) are inside the input; the last vector holds `last` channels. */
FC_INLINE void fc_dwh_tile(int P, int cb, const fc_dwconv_nhwc_args *a, int64_t ow, int64_t c,
                           int64_t kh0, int64_t kh1, int64_t kw0, int64_t kw1, int64_t last) {
    const int64_t C = a->C, Cp = a->Cp, W = a->W, KW = a->KW, SW = a->SW, DW = a->DW;
    const FC_T *x = (const FC_T *)a->x + c;
    const FC_T *w = (const FC_T *)a->w + c;
    const FC_T *bias = (const FC_T *)a->bias + c;
    const fc_mask m = m_first(last);
    fc_vec acc[FC_DWH_P][FC_DWH_CB];
#pragma GCC unroll 4
    for (int j = 0; j < cb; j++) {
        fc_vec b = v_load(bias + j * FC_V);
#pragma GCC unroll 4
        for (int p = 0; p < P; p++) acc[p][j] = b;
    }
    const int64_t iw0 = ow * SW - a->PL, pstride = SW * C;
    for (int64_t kh = kh0; kh < kh1; kh++) {
        const int64_t xr = ((a->ih0 + kh * a->DH) * W + iw0) * C;  /* may be < 0 before + kw */
        const FC_T *wr = w + kh * KW * Cp;
        for (int64_t kw = kw0; kw < kw1; kw++) {
            const FC_T *xp = x + (xr + kw * DW * C);
            const FC_T *wp = wr + kw * Cp;
            fc_vec wv[FC_DWH_CB];
#pragma GCC unroll 4
            for (int j = 0; j < cb; j++) wv[j] = v_load(wp + j * FC_V);
#pragma GCC unroll 4
            for (int p = 0; p < P; p++) {
#pragma GCC unroll 4
                for (int j = 0; j < cb; j++) {
                    const FC_T *s = xp + p * pstride + j * FC_V;
                    fc_vec xv = (j == cb - 1 && last != FC_V) ? v_loadm(s, m) : v_load(s);
                    acc[p][j] = v_fma(xv, wv[j], acc[p][j]);
                }
            }
        }
    }
    FC_T *y = (FC_T *)a->y + ow * C + c;
    const int relu = (a->flags & FC_FLAG_RELU) != 0;
#pragma GCC unroll 4
    for (int p = 0; p < P; p++) {
#pragma GCC unroll 4
        for (int j = 0; j < cb; j++) {
            fc_vec v = relu ? v_relu(acc[p][j]) : acc[p][j];
            if (j == cb - 1 && last != FC_V) v_storem(y + p * C + j * FC_V, v, m);
            else v_store(y + p * C + j * FC_V, v);
        }
    }
}

/* P pixels from `ow`, every channel in [c0, c1). */
FC_INLINE void fc_dwh_pixels(int P, const fc_dwconv_nhwc_args *a, int64_t ow, int64_t kh0,
                             int64_t kh1, int64_t kw0, int64_t kw1) {
    int64_t c = a->c0;
    for (; c + FC_DWH_CB * FC_V <= a->c1; c += FC_DWH_CB * FC_V)
        fc_dwh_tile(P, FC_DWH_CB, a, ow, c, kh0, kh1, kw0, kw1, FC_V);
    int64_t rem = a->c1 - c;
    if (rem <= 0) return;
    int64_t nv = fc_cdiv(rem, FC_V), last = rem - (nv - 1) * FC_V;
    switch (nv) {
    case 1: fc_dwh_tile(P, 1, a, ow, c, kh0, kh1, kw0, kw1, last); break;
    case 2: fc_dwh_tile(P, 2, a, ow, c, kh0, kh1, kw0, kw1, last); break;
    default: fc_dwh_tile(P, 3, a, ow, c, kh0, kh1, kw0, kw1, last); break;
    }
}

void FC_NAME(const void *args) {
    const fc_dwconv_nhwc_args *a = (const fc_dwconv_nhwc_args *)args;
    const int64_t W = a->W, KW = a->KW, SW = a->SW, DW = a->DW, PL = a->PL;
    const int64_t DH = a->DH, ih0 = a->ih0;
    /* kernel rows inside the input: 0 <= ih0 + kh*DH < H */
    int64_t kh0 = ih0 < 0 ? fc_cdiv(-ih0, DH) : 0;
    int64_t kh1 = fc_min64(a->KH, fc_fdiv(a->H - 1 - ih0, DH) + 1);
    if (kh1 < kh0) kh1 = kh0;
    /* [oa, ob): output pixels whose whole window row lies inside the input */
    int64_t oa = fc_cdiv(PL, SW);
    int64_t ob = fc_fdiv(W - 1 - (KW - 1) * DW + PL, SW) + 1;
    int64_t ow = a->ow0;
    while (ow < a->ow1) {
        if (ow >= oa && ow + FC_DWH_P <= ob && ow + FC_DWH_P <= a->ow1) {
            fc_dwh_pixels(FC_DWH_P, a, ow, kh0, kh1, 0, KW);
            ow += FC_DWH_P;
        } else {
            int64_t iw0 = ow * SW - PL;
            int64_t kw0 = iw0 < 0 ? fc_cdiv(-iw0, DW) : 0;
            int64_t kw1 = fc_min64(KW, fc_fdiv(W - 1 - iw0, DW) + 1);
            if (kw1 < kw0) kw1 = kw0;
            fc_dwh_pixels(1, a, ow, kh0, kh1, kw0, kw1);
            ow += 1;
        }
    }
}
