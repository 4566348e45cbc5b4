/* Template of the smallc micro-kernel (contract in smallc-kernels.h).
 * Include with FC_T, FC_SIMD (see dwconv-smallc-simd.h), FC_NAME, FC_SC_KB
 * (output channels per tile, <= 8) and FC_SC_U (vectors along W, <= 2) defined. */
#include "smallc-kernels.h"
#include "dwconv-smallc-simd.h"
#include "dwconv-smallc-fill.h"

#define FC_INLINE static inline __attribute__((always_inline))

typedef struct {
    const FC_T *buf;      /* filled rows; channel c, buffer row r at buf + (c*R + r)*rs */
    const int64_t *off;   /* column offset of kernel column kw inside a buffer row */
    int64_t R, rs;
} fc_sc_src;

/* kb output channels from k0 x nu vectors along W from column ow of output
 * row i; the last vector holds `last` valid columns. */
FC_INLINE void fc_sc_tile(int kb, int nu, const fc_smallc_args *a, const fc_sc_src *s,
                          int64_t i, int64_t ow, int64_t k0, int64_t last) {
    const int64_t C = a->C, K = a->K, KH = a->KH, KW = a->KW;
    const FC_T *w = (const FC_T *)a->w + k0;
    const FC_T *bias = (const FC_T *)a->bias + k0;
    fc_vec acc[FC_SC_KB][FC_SC_U];
#pragma GCC unroll 8
    for (int k = 0; k < kb; k++) {
        fc_vec b = v_set1(bias[k]);
#pragma GCC unroll 2
        for (int u = 0; u < nu; u++) acc[k][u] = b;
    }
    for (int64_t c = 0; c < C; c++) {
        for (int64_t kh = 0; kh < KH; kh++) {
            const FC_T *xr = s->buf + (c * s->R + i * a->SH + kh * a->DH) * s->rs + ow;
            const FC_T *wr = w + ((c * KH + kh) * KW) * K;
            for (int64_t kw = 0; kw < KW; kw++) {
                const FC_T *xp = xr + s->off[kw];
                const FC_T *wp = wr + kw * K;
                fc_vec xv[FC_SC_U];
#pragma GCC unroll 2
                for (int u = 0; u < nu; u++) xv[u] = v_load(xp + u * FC_V);
#pragma GCC unroll 8
                for (int k = 0; k < kb; k++) {
                    fc_vec wv = v_set1(wp[k]);
#pragma GCC unroll 2
                    for (int u = 0; u < nu; u++) acc[k][u] = v_fma(xv[u], wv, acc[k][u]);
                }
            }
        }
    }
    const int relu = (a->flags & FC_FLAG_RELU) != 0;
    const int64_t oh = a->oh0 + i;
    if (a->layout == FC_NCHW) {
        FC_T *y = (FC_T *)a->y + (k0 * a->OH + oh) * a->OW + ow;
        const fc_mask m = m_first(last);
#pragma GCC unroll 8
        for (int k = 0; k < kb; k++) {
#pragma GCC unroll 2
            for (int u = 0; u < nu; u++) {
                fc_vec v = relu ? v_relu(acc[k][u]) : acc[k][u];
                FC_T *yp = y + k * a->OH * a->OW + u * FC_V;
                if (u == nu - 1 && last != FC_V) v_storem(yp, v, m);
                else v_store(yp, v);
            }
        }
    } else {
        FC_T t[FC_SC_KB][FC_SC_U * FC_V];
#pragma GCC unroll 8
        for (int k = 0; k < kb; k++) {
#pragma GCC unroll 2
            for (int u = 0; u < nu; u++)
                v_store(&t[k][u * FC_V], relu ? v_relu(acc[k][u]) : acc[k][u]);
        }
        FC_T *y = (FC_T *)a->y + (oh * a->OW + ow) * K + k0;
        int64_t npix = (nu - 1) * FC_V + last;
        for (int64_t p = 0; p < npix; p++)
#pragma GCC unroll 8
            for (int k = 0; k < kb; k++) y[p * K + k] = t[k][p];
    }
}

FC_INLINE void fc_sc_tile_k(int kb, const fc_smallc_args *a, const fc_sc_src *s, int64_t i,
                            int64_t ow, int64_t k0, int nu, int64_t last) {
    if (FC_SC_U >= 2 && nu == 2) fc_sc_tile(kb, FC_SC_U >= 2 ? 2 : 1, a, s, i, ow, k0, last);
    else fc_sc_tile(kb, 1, a, s, i, ow, k0, last);
}

void FC_NAME(const void *args) {
    const fc_smallc_args *a = (const fc_smallc_args *)args;
    const int64_t C = a->C, K = a->K, KH = a->KH, KW = a->KW, SH = a->SH, SW = a->SW;
    const int64_t DH = a->DH, DW = a->DW, OW = a->OW, rows = a->oh1 - a->oh0;
    if (rows <= 0) return;
    const int64_t ps = fc_dwconv_nchw_phase_stride(OW, KW, SW, DW);
    fc_sc_src s;
    s.R = (rows - 1) * SH + (KH - 1) * DH + 1;
    s.rs = SW * ps;
    s.buf = (const FC_T *)a->scratch;
    const FC_T *x = (const FC_T *)a->x;
    for (int64_t c = 0; c < C; c++) {
        FC_T *dst = (FC_T *)a->scratch + c * s.R * s.rs;
        if (a->layout == FC_NCHW)
            fc_fill_rows(dst, x + c * a->H * a->W, a->W, 1, a->H, a->W, a->PT, a->PL,
                         a->oh0 * SH, s.R, SW, ps);
        else
            fc_fill_rows(dst, x + c, a->W * C, C, a->H, a->W, a->PT, a->PL, a->oh0 * SH, s.R,
                         SW, ps);
    }
    int64_t off[KW];
    for (int64_t kw = 0; kw < KW; kw++) off[kw] = ((kw * DW) % SW) * ps + (kw * DW) / SW;
    s.off = off;
    const int64_t step = FC_SC_U * FC_V;
    for (int64_t i = 0; i < rows; i++) {
        for (int64_t ow = 0; ow < OW; ow += step) {
            int64_t rem = fc_min64(step, OW - ow);
            int nu = (int)fc_cdiv(rem, FC_V);
            int64_t last = rem - (nu - 1) * FC_V;
            int64_t k0 = 0;
            for (; k0 + FC_SC_KB <= K; k0 += FC_SC_KB)
                fc_sc_tile_k(FC_SC_KB, a, &s, i, ow, k0, nu, last);
            switch (K - k0) {
            case 0: break;
#define FC_SC_CASE(n) case n: if (n < FC_SC_KB) fc_sc_tile_k(n < FC_SC_KB ? n : 1, a, &s, i, ow, k0, nu, last); break;
            FC_SC_CASE(1) FC_SC_CASE(2) FC_SC_CASE(3) FC_SC_CASE(4)
            FC_SC_CASE(5) FC_SC_CASE(6) FC_SC_CASE(7)
#undef FC_SC_CASE
            default: break;
            }
        }
    }
}
