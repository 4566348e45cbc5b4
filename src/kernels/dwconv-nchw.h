/* Template of the dwconv_nchw micro-kernel (contract in dwconv-kernels.h).
 * Include with FC_T, FC_SIMD (see dwconv-smallc-simd.h) and FC_NAME defined.
 * Register tile: up to FC_DWN_U vectors of output, one accumulator each. */
#include "dwconv-kernels.h"
#include "dwconv-smallc-simd.h"
#include "dwconv-smallc-fill.h"

#define FC_DWN_U 4
#define FC_INLINE static inline __attribute__((always_inline))

/* Lanes i of a span starting at column s that lie inside a row of W columns. */
static inline uint32_t fc_dwn_bits(int64_t s, int64_t W) {
    int64_t lo = s < 0 ? -s : 0, hi = W - s < FC_V ? W - s : FC_V;
    if (hi <= lo) return 0u;
    uint32_t upto = hi >= 32 ? ~0u : ((1u << hi) - 1u);
    return upto & ~((1u << lo) - 1u);
}

FC_INLINE void fc_dwn_store(int nu, FC_T *y, fc_vec *acc, int64_t last, int relu) {
#pragma GCC unroll 4
    for (int u = 0; u < nu; u++) {
        fc_vec v = relu ? v_relu(acc[u]) : acc[u];
        if (u == nu - 1 && last != FC_V) v_storem(y + u * FC_V, v, m_first(last));
        else v_store(y + u * FC_V, v);
    }
}

/* Flat mode: vectors v0 .. v0+nu-1 of the plane read as one signal; tab holds
 * the mask of every (vector, tap). */
FC_INLINE void fc_dwn_flat(int nu, const FC_T *x, const FC_T *w, FC_T b, FC_T *y,
                           const fc_mask *tab, const int64_t *toff, int64_t T, int64_t v0,
                           int64_t last, int relu) {
    fc_vec acc[FC_DWN_U];
#pragma GCC unroll 4
    for (int u = 0; u < nu; u++) acc[u] = v_set1(b);
    const FC_T *xv = x + v0 * FC_V;
    const fc_mask *tv = tab + v0 * T;
    for (int64_t t = 0; t < T; t++) {
        fc_vec wv = v_set1(w[t]);
        const FC_T *xp = xv + toff[t];
#pragma GCC unroll 4
        for (int u = 0; u < nu; u++)
            acc[u] = v_fma(v_loadm(xp + u * FC_V, tv[u * T + t]), wv, acc[u]);
    }
    fc_dwn_store(nu, y + v0 * FC_V, acc, last, relu);
}

/* Row mode: nu vectors of one output row from vector vi. xr: input row of the
 * first valid kernel row, at the column of lane 0 of vector 0 for tap 0;
 * cm: column masks [vector][kw][2] (the second one for stride 2's high half). */
FC_INLINE void fc_dwn_row(int nu, int s2, const FC_T *xr, int64_t rstep, const FC_T *w,
                          int64_t nkh, int64_t KW, int64_t DW, const fc_mask *cm, int64_t vi,
                          FC_T b, FC_T *y, int64_t last, int relu) {
    fc_vec acc[FC_DWN_U];
#pragma GCC unroll 4
    for (int u = 0; u < nu; u++) acc[u] = v_set1(b);
    const FC_T *xv = xr + (s2 ? 2 : 1) * vi * FC_V;
    const fc_mask *mv = cm + vi * KW * 2;
    for (int64_t kh = 0; kh < nkh; kh++) {
        const FC_T *xk = xv + kh * rstep;
        const FC_T *wk = w + kh * KW;
        for (int64_t kw = 0; kw < KW; kw++) {
            fc_vec wv = v_set1(wk[kw]);
            const FC_T *xp = xk + kw * DW;
#pragma GCC unroll 4
            for (int u = 0; u < nu; u++) {
                const fc_mask *m = mv + (u * KW + kw) * 2;
                fc_vec xin;
                if (s2) {
                    fc_vec e, o;
                    v_deint2(v_loadm(xp + 2 * u * FC_V, m[0]),
                             v_loadm(xp + 2 * u * FC_V + FC_V, m[1]), &e, &o);
                    xin = e;
                } else {
                    xin = v_loadm(xp + u * FC_V, m[0]);
                }
                acc[u] = v_fma(xin, wv, acc[u]);
            }
        }
    }
    fc_dwn_store(nu, y + vi * FC_V, acc, last, relu);
}

/* Strides above 2: nv vectors of output row `yr` from column ow of the
 * phase-split scratch rows; the last one holds `last` values. */
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
    fc_dwn_store(nv, yr, acc, last, relu);
}

static void fc_dwn_scratch_plane(const fc_dwconv_nchw_args *a, const FC_T *x, const FC_T *w,
                                 FC_T b, FC_T *y, int relu) {
    const int64_t KH = a->KH, KW = a->KW, SH = a->SH, SW = a->SW, DH = a->DH, DW = a->DW;
    const int64_t OW = a->OW, rows = a->oh1 - a->oh0;
    const int64_t ps = fc_dwconv_nchw_phase_stride(OW, KW, SW, DW), rs = SW * ps;
    FC_T *buf = (FC_T *)a->scratch;
    int64_t in_rows = (rows - 1) * SH + (KH - 1) * DH + 1;
    fc_fill_rows(buf, x, a->W, 1, a->H, a->W, a->PT, a->PL, a->oh0 * SH, in_rows, SW, ps);
    int64_t off[KW];
    for (int64_t kw = 0; kw < KW; kw++) off[kw] = ((kw * DW) % SW) * ps + (kw * DW) / SW;
    for (int64_t i = 0; i < rows; i++) {
        const FC_T *xr = buf + i * SH * rs;
        FC_T *yr = y + i * OW;
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

#if FC_SIMD >= 2
#define FC_DWN3 1
#if FC_SIMD == 3
#define FC_DWN3_U 2  /* 9 weights + 4 x 2 accumulators + loads: 32 zmm */
#define FC_DWN3_S2 1 /* stride 2's deinterleaving temporaries fit too */
#else
#define FC_DWN3_U 1  /* 16 ymm: 9 weights + 4 accumulators + a load + masks */
#define FC_DWN3_S2 0
#endif
/* 3x3 undilated, stride S (1 or 2) both ways: R output rows x U vectors from
 * vector vi of one plane. xr: column 0 - PL of the input row under kernel row
 * 0 of the first output row; rows t in [tlo, thi) of the (R - 1)S + 3 the tile
 * covers are inside the input. Each input vector (row t, column kw) is loaded
 * once and feeds every output row it meets: (R + 2) * 3 loads for 9 * R FMAs
 * a vector column at stride 1, where row by row took 9 * R (a masked load that
 * mostly splits a cache line, and its mask, per FMA: 1 thread, 144 channels
 * @56: 20+ cycles an output vector). Stride 2 deinterleaves two spans of 2V
 * columns per input row: kw 0 and 1 are the even and odd lanes of the first,
 * kw 2 the even lanes of the one 2 columns on. `tail`: the tile holds the
 * row's last vector, `last` lanes of it. Each output sums its taps in kernel
 * order (kh, then kw), as the row-by-row code did. */
FC_INLINE void fc_dwn3_tile(int R, int U, int S, const FC_T *xr, int64_t W, const fc_vec *wv,
                            const fc_mask *cm, int64_t vi, int64_t tlo, int64_t thi,
                            FC_T b, FC_T *y, int64_t OW, int tail, int64_t last, int relu) {
    fc_vec acc[4][FC_DWN3_U];
#pragma GCC unroll 4
    for (int r = 0; r < R; r++)
#pragma GCC unroll 2
        for (int u = 0; u < U; u++) acc[r][u] = v_set1(b);
#pragma GCC unroll 9
    for (int t = 0; t < (R - 1) * S + 3; t++) {
        if (t < tlo || t >= thi) continue;
        const FC_T *xt = xr + t * W + vi * FC_V * S;
#pragma GCC unroll 2
        for (int u = 0; u < U; u++) {
            const fc_mask *m = cm + (vi + u) * 3 * 2;  /* [kw][half] */
            fc_vec xk[3];
            if (S == 1) {
#pragma GCC unroll 3
                for (int kw = 0; kw < 3; kw++) xk[kw] = v_loadm(xt + kw + u * FC_V, m[kw * 2]);
            } else {
                const FC_T *sp = xt + 2 * u * FC_V;
                fc_vec odd2;
                v_deint2(v_loadm(sp, m[0]), v_loadm(sp + FC_V, m[1]), &xk[0], &xk[1]);
                v_deint2(v_loadm(sp + 2, m[4]), v_loadm(sp + 2 + FC_V, m[5]), &xk[2], &odd2);
                (void)odd2;
            }
#pragma GCC unroll 3
            for (int kw = 0; kw < 3; kw++)
#pragma GCC unroll 4
                for (int r = 0; r < R; r++) {
                    const int kh = t - r * S;
                    if (kh >= 0 && kh <= 2) acc[r][u] = v_fma(xk[kw], wv[kh * 3 + kw], acc[r][u]);
                }
        }
    }
#pragma GCC unroll 4
    for (int r = 0; r < R; r++)
#pragma GCC unroll 2
        for (int u = 0; u < U; u++) {
            fc_vec v = relu ? v_relu(acc[r][u]) : acc[r][u];
            FC_T *d = y + r * OW + (vi + u) * FC_V;
            if (tail && u == U - 1 && last != FC_V) v_storem(d, v, m_first(last));
            else v_store(d, v);
        }
}

/* Output rows [oh, oh + R) of one plane, every vector of them. */
FC_INLINE void fc_dwn3_rows_of(int R, int S, const fc_dwconv_nchw_args *a, const FC_T *x,
                               const fc_vec *wv, const fc_mask *cm, FC_T b, FC_T *y,
                               int64_t oh, int relu) {
    const int64_t W = a->W, OW = a->OW, nvr = fc_cdiv(OW, FC_V), NT = (R - 1) * S + 3;
    const int64_t last = OW - (nvr - 1) * FC_V, ih0 = oh * S - a->PT;
    const int64_t tlo = ih0 < 0 ? -ih0 : 0, thi = fc_max64(tlo, fc_min64(NT, a->H - ih0));
    const FC_T *xr = x + (ih0 * W - a->PL);  /* may lie before the plane: masked lanes */
    y += oh * OW;
    int64_t vi = 0;
    for (; vi + FC_DWN3_U < nvr; vi += FC_DWN3_U)
        fc_dwn3_tile(R, FC_DWN3_U, S, xr, W, wv, cm, vi, tlo, thi, b, y, OW, 0, last, relu);
#if FC_DWN3_U == 2
    if (nvr - vi == 2)
        fc_dwn3_tile(R, 2, S, xr, W, wv, cm, vi, tlo, thi, b, y, OW, 1, last, relu);
    else
#endif
        fc_dwn3_tile(R, 1, S, xr, W, wv, cm, vi, tlo, thi, b, y, OW, 1, last, relu);
}

/* Rows [oh0, oh1) of planes [p0, p1): four rows at a time, then a pair, a lone row. */
FC_INLINE void fc_dwn3_planes_s(int S, const fc_dwconv_nchw_args *a, const fc_mask *cm,
                                int relu) {
    for (int64_t p = a->p0; p < a->p1; p++) {
        const int64_t c = p % a->C;
        const FC_T *x = (const FC_T *)a->x + p * a->H * a->W;
        const FC_T *w = (const FC_T *)a->w + c * 9;
        const FC_T b = a->bias ? ((const FC_T *)a->bias)[c] : (FC_T)0;
        FC_T *y = (FC_T *)a->y + p * a->OH * a->OW;
        fc_vec wv[9];
#pragma GCC unroll 9
        for (int t = 0; t < 9; t++) wv[t] = v_set1(w[t]);
        int64_t oh = a->oh0;
        for (; oh + 4 <= a->oh1; oh += 4) fc_dwn3_rows_of(4, S, a, x, wv, cm, b, y, oh, relu);
        if (oh + 2 <= a->oh1) {
            fc_dwn3_rows_of(2, S, a, x, wv, cm, b, y, oh, relu);
            oh += 2;
        }
        if (oh < a->oh1) fc_dwn3_rows_of(1, S, a, x, wv, cm, b, y, oh, relu);
    }
}

static void fc_dwn3_planes(const fc_dwconv_nchw_args *a, const fc_mask *cm, int relu) {
#if FC_DWN3_S2
    if (a->SW == 2) {
        fc_dwn3_planes_s(2, a, cm, relu);
        return;
    }
#endif
    fc_dwn3_planes_s(1, a, cm, relu);
}
#else
#define FC_DWN3 0
#define FC_DWN3_S2 0
#endif

/* Whether fc_dwn3_planes takes this call (through the row mode's masks). */
static inline int fc_dwn3_takes(const fc_dwconv_nchw_args *a) {
    return FC_DWN3 && a->KH == 3 && a->KW == 3 && a->DH == 1 && a->DW == 1 && a->SH == a->SW &&
           (a->SW == 1 || (FC_DWN3_S2 && a->SW == 2));
}

/* Whether the flat mode takes this call: stride 1, output as wide as the
 * input, whole planes, fewer vectors than row by row, a table that fits. */
static inline int fc_dwn_flat_ok(const fc_dwconv_nchw_args *a) {
    if (a->SH != 1 || a->SW != 1 || a->OW != a->W || a->oh0 != 0 || a->oh1 != a->OH) return 0;
    int64_t nvec = fc_cdiv(a->OH * a->OW, FC_V);
    return nvec < fc_cdiv(a->OW, FC_V) * a->OH &&
           nvec * a->KH * a->KW * (int64_t)sizeof(fc_mask) <=
               FC_DWN_FLAT_MASKS * FC_DWN_MASK_BYTES;
}

static void fc_dwn_flat_planes(const fc_dwconv_nchw_args *a, int relu) {
    const int64_t H = a->H, W = a->W, KH = a->KH, KW = a->KW, T = KH * KW;
    const int64_t P = a->OH * a->OW, nvec = fc_cdiv(P, FC_V), last = P - (nvec - 1) * FC_V;
    fc_mask *tab = (fc_mask *)a->scratch;
    int64_t toff[T];
    for (int64_t kh = 0; kh < KH; kh++)
        for (int64_t kw = 0; kw < KW; kw++)
            toff[kh * KW + kw] = (kh * a->DH - a->PT) * W + kw * a->DW - a->PL;
    /* lane bits of each kernel row / column, per vector, then their products */
    uint32_t rb[KH], cb[KW];
    for (int64_t v = 0; v < nvec; v++) {
        for (int64_t kh = 0; kh < KH; kh++) rb[kh] = 0;
        for (int64_t kw = 0; kw < KW; kw++) cb[kw] = 0;
        int64_t q = v * FC_V, oh = q / W, ow = q % W;
        for (int64_t j = 0; j < FC_V && q + j < P; j++) {
            for (int64_t kh = 0; kh < KH; kh++) {
                int64_t ih = oh - a->PT + kh * a->DH;
                if (ih >= 0 && ih < H) rb[kh] |= 1u << j;
            }
            for (int64_t kw = 0; kw < KW; kw++) {
                int64_t iw = ow - a->PL + kw * a->DW;
                if (iw >= 0 && iw < W) cb[kw] |= 1u << j;
            }
            if (++ow == W) { ow = 0; oh++; }
        }
        for (int64_t kh = 0; kh < KH; kh++)
            for (int64_t kw = 0; kw < KW; kw++) tab[v * T + kh * KW + kw] = m_bits(rb[kh] & cb[kw]);
    }
    for (int64_t p = a->p0; p < a->p1; p++) {
        const int64_t c = p % a->C;
        const FC_T *x = (const FC_T *)a->x + p * H * W;
        const FC_T *w = (const FC_T *)a->w + c * T;
        const FC_T b = a->bias ? ((const FC_T *)a->bias)[c] : (FC_T)0;
        FC_T *y = (FC_T *)a->y + p * P;
        int64_t v = 0;
        for (; v + FC_DWN_U < nvec; v += FC_DWN_U)
            fc_dwn_flat(FC_DWN_U, x, w, b, y, tab, toff, T, v, FC_V, relu);
        switch (nvec - v) {
        case 1: fc_dwn_flat(1, x, w, b, y, tab, toff, T, v, last, relu); break;
        case 2: fc_dwn_flat(2, x, w, b, y, tab, toff, T, v, last, relu); break;
        case 3: fc_dwn_flat(3, x, w, b, y, tab, toff, T, v, last, relu); break;
        default: fc_dwn_flat(4, x, w, b, y, tab, toff, T, v, last, relu); break;
        }
    }
}

FC_INLINE void fc_dwn_row_all(int s2, const fc_dwconv_nchw_args *a, const FC_T *xr,
                              const FC_T *w, int64_t nkh, const fc_mask *cm, FC_T b, FC_T *y,
                              int relu) {
    const int64_t KW = a->KW, DW = a->DW, rstep = a->DH * a->W;
    const int64_t nvr = fc_cdiv(a->OW, FC_V), last = a->OW - (nvr - 1) * FC_V;
    int64_t vi = 0;
    for (; vi + FC_DWN_U < nvr; vi += FC_DWN_U)
        fc_dwn_row(FC_DWN_U, s2, xr, rstep, w, nkh, KW, DW, cm, vi, b, y, FC_V, relu);
    switch (nvr - vi) {
    case 1: fc_dwn_row(1, s2, xr, rstep, w, nkh, KW, DW, cm, vi, b, y, last, relu); break;
    case 2: fc_dwn_row(2, s2, xr, rstep, w, nkh, KW, DW, cm, vi, b, y, last, relu); break;
    case 3: fc_dwn_row(3, s2, xr, rstep, w, nkh, KW, DW, cm, vi, b, y, last, relu); break;
    default: fc_dwn_row(4, s2, xr, rstep, w, nkh, KW, DW, cm, vi, b, y, last, relu); break;
    }
}

static void fc_dwn_row_planes(const fc_dwconv_nchw_args *a, int relu) {
    const int64_t H = a->H, W = a->W, KH = a->KH, KW = a->KW, SW = a->SW, DH = a->DH;
    const int64_t OW = a->OW, nvr = fc_cdiv(OW, FC_V);
    const int s2 = SW == 2;
    fc_mask *cm = (fc_mask *)a->scratch;
    for (int64_t v = 0; v < nvr; v++)
        for (int64_t kw = 0; kw < KW; kw++) {
            int64_t s = v * FC_V * SW - a->PL + kw * a->DW;
            cm[(v * KW + kw) * 2] = m_bits(fc_dwn_bits(s, W));
            cm[(v * KW + kw) * 2 + 1] = m_bits(fc_dwn_bits(s + FC_V, W));
        }
#if FC_DWN3
    if (fc_dwn3_takes(a)) {
        fc_dwn3_planes(a, cm, relu);
        return;
    }
#endif
    for (int64_t p = a->p0; p < a->p1; p++) {
        const int64_t c = p % a->C;
        const FC_T *x = (const FC_T *)a->x + p * H * W;
        const FC_T *w = (const FC_T *)a->w + c * KH * KW;
        const FC_T b = a->bias ? ((const FC_T *)a->bias)[c] : (FC_T)0;
        for (int64_t oh = a->oh0; oh < a->oh1; oh++) {
            FC_T *y = (FC_T *)a->y + (p * a->OH + oh) * OW;
            const int64_t ih0 = oh * a->SH - a->PT;
            /* kernel rows inside the input: 0 <= ih0 + kh*DH < H */
            int64_t kh0 = ih0 < 0 ? fc_cdiv(-ih0, DH) : 0;
            int64_t kh1 = fc_min64(KH, fc_fdiv(H - 1 - ih0, DH) + 1);
            if (kh1 < kh0) kh1 = kh0;
            /* a column offset, not a pointer: the row may start in the padding */
            const FC_T *xr = x + ((ih0 + kh0 * DH) * W - a->PL);
            if (s2) fc_dwn_row_all(1, a, xr, w + kh0 * KW, kh1 - kh0, cm, b, y, relu);
            else fc_dwn_row_all(0, a, xr, w + kh0 * KW, kh1 - kh0, cm, b, y, relu);
        }
    }
}

void FC_NAME(const void *args) {
    const fc_dwconv_nchw_args *a = (const fc_dwconv_nchw_args *)args;
    const int relu = (a->flags & FC_FLAG_RELU) != 0;
    if (a->oh1 <= a->oh0 || a->p1 <= a->p0) return;
    if (a->SW <= 2) {
        /* flat where it fills far fewer vectors (7x7: 4 instead of 7 rows) */
        const int64_t nflat = fc_cdiv(a->OH * a->OW, FC_V), nrows = fc_cdiv(a->OW, FC_V) * a->OH;
        if (fc_dwn_flat_ok(a) && (!fc_dwn3_takes(a) || 2 * nrows >= 3 * nflat))
            fc_dwn_flat_planes(a, relu);
        else fc_dwn_row_planes(a, relu);
        return;
    }
    for (int64_t p = a->p0; p < a->p1; p++) {
        const int64_t c = p % a->C;
        const FC_T b = a->bias ? ((const FC_T *)a->bias)[c] : (FC_T)0;
        fc_dwn_scratch_plane(a, (const FC_T *)a->x + p * a->H * a->W,
                             (const FC_T *)a->w + c * a->KH * a->KW, b,
                             (FC_T *)a->y + (p * a->OH + a->oh0) * a->OW, relu);
    }
}
