/* Template of the dwgradx_nhwc micro-kernels (contract in dwgradx.h): 3x3,
 * stride 2, undilated. Include with FC_T (FC_T_IS_DOUBLE for double),
 * FC_SIMD (see dwconv-smallc-simd.h) and FC_NAME.
 *
 * Row ih + PT = 2a + 1 takes kernel row 1 of grad_output row a; 2a takes
 * rows 0 and 2 of grad_output rows a and a - 1. Likewise for columns: the
 * pixel iw + PL = 2b + 1 is w[.][1] * gy[b], 2b is w[.][0] * gy[b] +
 * w[.][2] * gy[b - 1]. A row is walked along b, each pixel pair's channel
 * vectors in turn, so gx is written once, in address order (the per-phase
 * forward calls wrote it 2 pixels apart in 4 passes). Out-of-range
 * grad_output rows and columns are zeros, never read. */
#include "dwgradx.h"
#include "dwconv-smallc-simd.h"

#define FC_INLINE static inline __attribute__((always_inline))

/* The gx pixels 2b - PL and 2b + 1 - PL (those inside when `edge`), channels
 * [c, c + V) (`masked`: the lanes m). g0/g1 + c: the grad_output rows of the
 * row's taps (nr of them), w0/w1 + c their kernel rows ([3][Cp]). */
FC_INLINE void fc_dgxn_px(int nr, int edge, int masked, fc_mask m, const FC_T *g0,
                          const FC_T *g1, const FC_T *w0, const FC_T *w1, const FC_T *bs,
                          FC_T *y, int64_t c, int64_t Cp, int64_t C, int64_t OW, int64_t W,
                          int64_t PL, int64_t b) {
    fc_vec c0 = v_zero(), c1 = v_zero(), p0 = v_zero(), p1 = v_zero();
    if (!edge || (b >= 0 && b < OW)) {
        c0 = masked ? v_loadm(g0 + b * C + c, m) : v_load(g0 + b * C + c);
        if (nr > 1) c1 = masked ? v_loadm(g1 + b * C + c, m) : v_load(g1 + b * C + c);
    }
    if (!edge || (b >= 1 && b <= OW)) {
        p0 = masked ? v_loadm(g0 + (b - 1) * C + c, m) : v_load(g0 + (b - 1) * C + c);
        if (nr > 1) p1 = masked ? v_loadm(g1 + (b - 1) * C + c, m) : v_load(g1 + (b - 1) * C + c);
    }
    const fc_vec bias = v_load(bs + c);
    fc_vec ev = v_fma(c0, v_load(w0 + c), v_fma(p0, v_load(w0 + 2 * Cp + c), bias));
    fc_vec od = v_fma(c0, v_load(w0 + Cp + c), bias);
    if (nr > 1) {
        ev = v_fma(c1, v_load(w1 + c), v_fma(p1, v_load(w1 + 2 * Cp + c), ev));
        od = v_fma(c1, v_load(w1 + Cp + c), od);
    }
    const int64_t ie = 2 * b - PL, io = ie + 1;
    if (!edge || (ie >= 0 && ie < W)) {
        if (masked) v_storem(y + ie * C + c, ev, m);
        else v_store(y + ie * C + c, ev);
    }
    if (!edge || (io >= 0 && io < W)) {
        if (masked) v_storem(y + io * C + c, od, m);
        else v_store(y + io * C + c, od);
    }
}

/* Columns b in [b0, b1) of one gx row, every channel: the pixel pairs in
 * address order, each one's channel vectors in turn (a channel vector per
 * pass along the row wrote gx lines C apart: 0.86 of the time of the
 * per-phase calls, this 0.70; 96 channels @112, 1 thread). */
FC_INLINE void fc_dgxn_walk(int nr, int edge, const FC_T *g0, const FC_T *g1, const FC_T *w0,
                            const FC_T *w1, const FC_T *bs, FC_T *y, int64_t Cp, int64_t C,
                            int64_t OW, int64_t W, int64_t PL, int64_t b0, int64_t b1) {
    const int64_t Cf = C - C % FC_V;
    const fc_mask m = m_first(C - Cf);
    for (int64_t b = b0; b < b1; b++) {
        for (int64_t c = 0; c < Cf; c += FC_V)
            fc_dgxn_px(nr, edge, 0, m, g0, g1, w0, w1, bs, y, c, Cp, C, OW, W, PL, b);
        if (Cf < C) fc_dgxn_px(nr, edge, 1, m, g0, g1, w0, w1, bs, y, Cf, Cp, C, OW, W, PL, b);
    }
}

/* One gx row: the edge columns checked, the interior not. */
FC_INLINE void fc_dgxn_row(int nr, const FC_T *g0, const FC_T *g1, const FC_T *w0,
                           const FC_T *w1, const FC_T *bs, FC_T *y,
                           const fc_dwgradx_nhwc_args *a) {
    const int64_t C = a->C, Cp = a->Cp, OW = a->OW, W = a->W, PL = a->PL;
    /* b covers gx columns 2b - PL and 2b + 1 - PL: every column of [0, W) */
    const int64_t blo = fc_fdiv(PL, 2), bhi = fc_fdiv(W - 1 + PL, 2) + 1;
    /* interior: both pixels inside gx, columns b - 1 and b inside grad_output */
    int64_t i0 = fc_max64(fc_max64(fc_cdiv(PL, 2), 1), blo);
    int64_t i1 = fc_min64(fc_min64(fc_fdiv(W - 2 + PL, 2) + 1, OW), bhi);
    if (i1 < i0) i0 = i1 = blo;
    fc_dgxn_walk(nr, 1, g0, g1, w0, w1, bs, y, Cp, C, OW, W, PL, blo, i0);
    fc_dgxn_walk(nr, 0, g0, g1, w0, w1, bs, y, Cp, C, OW, W, PL, i0, i1);
    fc_dgxn_walk(nr, 1, g0, g1, w0, w1, bs, y, Cp, C, OW, W, PL, i1, bhi);
}

void FC_NAME(const fc_dwgradx_nhwc_args *a) {
    const int64_t C = a->C, Cp = a->Cp, OH = a->OH, W = a->W, PT = a->PT;
    const FC_T *gy = (const FC_T *)a->gy, *w = (const FC_T *)a->w;
    const FC_T *bs = (const FC_T *)a->bias;
    for (int64_t ih = a->ih0; ih < a->ih1; ih++) {
        FC_T *y = (FC_T *)a->gx + ih * W * C;
        const int64_t u = ih + PT;
        /* the row's taps: (grad_output row, kernel row), those inside */
        int64_t orow[2], krow[2];
        int nr = 0;
        if (u & 1) {
            orow[0] = (u - 1) / 2;
            krow[0] = 1;
            nr = orow[0] >= 0 && orow[0] < OH;
        } else {
            for (int k = 0; k <= 2; k += 2) {
                const int64_t o = fc_fdiv(u - k, 2);
                if (o >= 0 && o < OH) {
                    orow[nr] = o;
                    krow[nr++] = k;
                }
            }
        }
        if (nr == 0) {
            for (int64_t iw = 0; iw < W; iw++)
                for (int64_t c = 0; c < C; c++) y[iw * C + c] = bs[c];
            continue;
        }
        const FC_T *g0 = gy + orow[0] * a->OW * C, *w0 = w + krow[0] * 3 * Cp;
        const FC_T *g1 = nr > 1 ? gy + orow[1] * a->OW * C : g0;
        const FC_T *w1 = nr > 1 ? w + krow[1] * 3 * Cp : w0;
        if (nr == 1) fc_dgxn_row(1, g0, g1, w0, w1, bs, y, a);
        else fc_dgxn_row(2, g0, g1, w0, w1, bs, y, a);
    }
}
#undef FC_INLINE
