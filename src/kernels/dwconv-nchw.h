/* Template of the dwconv_nchw micro-kernel (contract in dwconv-kernels.h).
 * Include with FC_T, FC_SIMD (see dwconv-smallc-simd.h) and FC_NAME defined.
 * Register tile: one output row x FC_DWN_U vectors along W. */
#include "dwconv-kernels.h"
#include "dwconv-smallc-simd.h"
#include "dwconv-smallc-fill.h"

#define FC_DWN_U 4
#define FC_INLINE static inline __attribute__((always_inline))

/* nv vectors of output row `yr` from column ow; the last one holds `last` values. */
FC_INLINE void fc_dwn_tile(int nv, const FC_T *xr, int64_t rs, const int64_t *off,
                           const FC_T *w, int64_t KH, int64_t KW, int64_t DH, FC_T b,
                           FC_T *yr, int64_t last, int relu) {
    fc_vec acc[FC_DWN_U];
#pragma GCC unroll 4
    for (int u = 0; u < nv; u++) acc[u] = v_set1(b);
    for (int64_t kh = 0; kh < KH; kh++) {
        const FC_T *xk = xr + kh * DH * rs;
        const FC_T *wk = w + kh * KW;
        for (int64_t kw = 0; kw < KW; kw++) {
            const FC_T *xp = xk + off[kw];
            fc_vec wv = v_set1(wk[kw]);
#pragma GCC unroll 4
            for (int u = 0; u < nv; u++) acc[u] = v_fma(v_load(xp + u * FC_V), wv, acc[u]);
        }
    }
#pragma GCC unroll 4
    for (int u = 0; u < nv; u++) {
        fc_vec v = relu ? v_relu(acc[u]) : acc[u];
        if (u == nv - 1 && last != FC_V) v_storem(yr + u * FC_V, v, m_first(last));
        else v_store(yr + u * FC_V, v);
    }
}

void FC_NAME(const void *args) {
    const fc_dwconv_nchw_args *a = (const fc_dwconv_nchw_args *)args;
    const int64_t KH = a->KH, KW = a->KW, SH = a->SH, SW = a->SW, DH = a->DH, DW = a->DW;
    const int64_t OW = a->OW, rows = a->oh1 - a->oh0;
    const int64_t ps = fc_dwconv_nchw_phase_stride(OW, KW, SW, DW), rs = SW * ps;
    const int relu = (a->flags & FC_FLAG_RELU) != 0;
    const FC_T *w = (const FC_T *)a->w;
    const FC_T b = *(const FC_T *)a->bias;
    FC_T *buf = (FC_T *)a->scratch;
    if (rows <= 0) return;
    int64_t in_rows = (rows - 1) * SH + (KH - 1) * DH + 1;
    fc_fill_rows(buf, (const FC_T *)a->x, a->W, 1, a->H, a->W, a->PT, a->PL, a->oh0 * SH, in_rows, SW, ps);
    int64_t off[KW];
    for (int64_t kw = 0; kw < KW; kw++) off[kw] = ((kw * DW) % SW) * ps + (kw * DW) / SW;
    for (int64_t i = 0; i < rows; i++) {
        const FC_T *xr = buf + i * SH * rs;
        FC_T *yr = (FC_T *)a->y + i * OW;
        int64_t ow = 0;
        for (; ow + FC_DWN_U * FC_V <= OW; ow += FC_DWN_U * FC_V)
            fc_dwn_tile(FC_DWN_U, xr + ow, rs, off, w, KH, KW, DH, b, yr + ow, FC_V, relu);
        int64_t rem = OW - ow;
        if (rem > 0) {
            int64_t nv = fc_cdiv(rem, FC_V), last = rem - (nv - 1) * FC_V;
            switch (nv) {
            case 1: fc_dwn_tile(1, xr + ow, rs, off, w, KH, KW, DH, b, yr + ow, last, relu); break;
            case 2: fc_dwn_tile(2, xr + ow, rs, off, w, KH, KW, DH, b, yr + ow, last, relu); break;
            case 3: fc_dwn_tile(3, xr + ow, rs, off, w, KH, KW, DH, b, yr + ow, last, relu); break;
            default: fc_dwn_tile(4, xr + ow, rs, off, w, KH, KW, DH, b, yr + ow, last, relu); break;
            }
        }
    }
}
