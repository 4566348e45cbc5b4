/* Template of the dwconv_nhwc micro-kernel (contract in dwconv-kernels.h).
 * Include with FC_T, FC_SIMD (see dwconv-smallc-simd.h) and FC_NAME defined.
 *
 * Register tiles of FC_DWH_P output pixels x 2 channel vectors, every channel
 * block of a tile before the next tile (input read in address order). For the
 * common kernels (widths 1, 2, 3 and 5 stride 1, 3 stride 2, no dilation) the tap
 * geometry is a compile-time constant and each input vector of a kernel row is
 * loaded once into a register that feeds every pixel whose window covers it:
 * (P-1)*S + K loads for P*K FMAs instead of P*K. Pixels whose window
 * overlaps the left/right padding go one at a time, their kernel columns
 * clamped (no padded copy). On AVX-512, 3x3 undilated kernels of stride 1 or 2
 * take fc_dwh3_rows instead: two output rows at a time (the input rows they
 * share loaded once, kernel rows in the padding skipped), in tiles of 1-8
 * pixels whose width and tap geometry are compile-time constants, the border
 * tiles included, so a row is one pass of full-speed tiles (960 channels @7x7:
 * 1.5x faster than the per-pixel edges and 4 + 1 remainders). */
#include "dwconv-kernels.h"
#include "dwconv-smallc-simd.h"

#define FC_DWH_P 8  /* pixels of a full tile (x 2 channel vectors) */
#define FC_INLINE static inline __attribute__((always_inline))
/* Keeps a loaded vector in a register: without it gcc folds every use back
 * into a memory operand of its FMA, one load per FMA instead of per column. */
#if FC_SIMD > 0
#define FC_DWH_KEEP(v) __asm__("" : "+v"(v))
#else
#define FC_DWH_KEEP(v) ((void)0)
#endif

/* P pixels from `ow` of output row y x cb vectors from channel c; ih0: the
 * input row of kernel row 0; kernel rows [kh0, kh1) and columns [kw0, kw1)
 * are inside the input; the last vector holds `last` channels. KWc, SWc, DWc:
 * the kernel width, stride and dilation when known at compile time (then
 * kw0 == 0, kw1 == KWc), else 0. */
FC_INLINE void fc_dwh_tile(int P, int cb, int KWc, int SWc, int DWc,
                           const fc_dwconv_nhwc_args *a, FC_T *y, int64_t ih0, int64_t ow,
                           int64_t c, int64_t kh0, int64_t kh1, int64_t kw0, int64_t kw1,
                           int64_t last) {
    const int64_t C = a->C, Cp = a->Cp, W = a->W, KW = KWc ? KWc : a->KW;
    const int64_t SW = SWc ? SWc : a->SW, DW = DWc ? DWc : a->DW;
    const FC_T *x = (const FC_T *)a->x + c;
    const FC_T *w = (const FC_T *)a->w + c;
    const FC_T *bias = (const FC_T *)a->bias + c;
    const fc_mask m = m_first(last);
    fc_vec acc[FC_DWH_P][2];
#pragma GCC unroll 2
    for (int j = 0; j < cb; j++) {
        fc_vec b = v_load(bias + j * FC_V);
#pragma GCC unroll 16
        for (int p = 0; p < P; p++) acc[p][j] = b;
    }
    const int64_t iw0 = ow * SW - a->PL;
    for (int64_t kh = kh0; kh < kh1; kh++) {
        const int64_t xr = ((ih0 + kh * a->DH) * W + iw0) * C;  /* may be < 0 before + kw */
        const FC_T *wr = w + kh * KW * Cp;
        if (KWc) {
            const int NI = (P - 1) * SWc + (KWc - 1) * DWc + 1;
#pragma GCC unroll 2
            for (int j = 0; j < cb; j++) {
                const int masked = j == cb - 1 && last != FC_V;
                fc_vec wv[5];
#pragma GCC unroll 5
                for (int kw = 0; kw < KWc; kw++) wv[kw] = v_load(wr + kw * Cp + j * FC_V);
#pragma GCC unroll 40
                for (int i = 0; i < NI; i++) {
                    const FC_T *s = x + (xr + i * C) + j * FC_V;
                    fc_vec xv = masked ? v_loadm(s, m) : v_load(s);
                    FC_DWH_KEEP(xv);
#pragma GCC unroll 5
                    for (int kw = 0; kw < KWc; kw++) {
                        const int q = i - kw * DWc;
                        if (q >= 0 && q % SWc == 0 && q / SWc < P)
                            acc[q / SWc][j] = v_fma(xv, wv[kw], acc[q / SWc][j]);
                    }
                }
            }
            continue;
        }
        for (int64_t kw = kw0; kw < kw1; kw++) {
            const FC_T *xp = x + (xr + kw * DW * C);
            const FC_T *wp = wr + kw * Cp;
#pragma GCC unroll 2
            for (int j = 0; j < cb; j++) {
                fc_vec wv = v_load(wp + j * FC_V);
#pragma GCC unroll 16
                for (int p = 0; p < P; p++) {
                    const FC_T *s = xp + p * SW * C + j * FC_V;
                    fc_vec xv = (j == cb - 1 && last != FC_V) ? v_loadm(s, m) : v_load(s);
                    acc[p][j] = v_fma(xv, wv, acc[p][j]);
                }
            }
        }
    }
    const int64_t YS = a->YS;
    y += ow * YS + c;
    const int relu = (a->flags & FC_FLAG_RELU) != 0;
#pragma GCC unroll 16
    for (int p = 0; p < P; p++) {
#pragma GCC unroll 2
        for (int j = 0; j < cb; j++) {
            fc_vec v = relu ? v_relu(acc[p][j]) : acc[p][j];
            if (j == cb - 1 && last != FC_V) v_storem(y + p * YS + j * FC_V, v, m);
            else v_store(y + p * YS + j * FC_V, v);
        }
    }
}

/* P pixels from `ow` of output row y, every channel of the call in blocks of
 * 2 vectors (and a 1-vector tail): the blocks of one tile share its input
 * pixels, read in order (whole cache lines, prefetcher-friendly). */
FC_INLINE void fc_dwh_pixels(int P, int KWc, int SWc, int DWc, const fc_dwconv_nhwc_args *a,
                             FC_T *y, int64_t ih0, int64_t ow, int64_t kh0, int64_t kh1,
                             int64_t kw0, int64_t kw1) {
    int64_t c = a->c0;
    for (; c + 2 * FC_V <= a->c1; c += 2 * FC_V)
        fc_dwh_tile(P, 2, KWc, SWc, DWc, a, y, ih0, ow, c, kh0, kh1, kw0, kw1, FC_V);
    const int64_t rem = a->c1 - c;
    if (rem > FC_V) fc_dwh_tile(P, 2, KWc, SWc, DWc, a, y, ih0, ow, c, kh0, kh1, kw0, kw1,
                                rem - FC_V);
    else if (rem > 0) fc_dwh_tile(P, 1, KWc, SWc, DWc, a, y, ih0, ow, c, kh0, kh1, kw0, kw1,
                                  rem);
}

#if FC_SIMD == 3
#define FC_DWH3 1  /* 9 weights + up to 16 accumulators need the 32 zmm registers */
/* R output rows from row oh x P pixels from `ow` x one channel vector from
 * channel c (`last` of them valid), for a 3x3 undilated kernel of stride S in
 * both directions. xo: the element offset in x of channel 0 of the input pixel
 * under tap (0, 0) of the first pixel, row oh (may lie outside the input).
 * Input rows t in [tlo, thi) of the (R-1)*S + 3 the rows cover are inside the
 * input, as are the columns i in [ilo, ihi) of the (P-1)*S + 3 the pixels
 * cover when `edge` (else all are): the others are padding, their taps
 * skipped. Each input vector is loaded once into a register that feeds every
 * (row, pixel, tap) it meets, the 9 weights stay in registers. */
FC_INLINE void fc_dwh3_tile(int R, int S, int P, int edge, const fc_dwconv_nhwc_args *a,
                            FC_T *y, int64_t xo, int64_t c, int64_t last, int64_t tlo,
                            int64_t thi, int64_t ilo, int64_t ihi) {
    const int64_t C = a->C, Cp = a->Cp, WC = a->W * a->C, OWC = a->OW * a->C, YS = a->YS;
    const FC_T *x = (const FC_T *)a->x + c;
    const FC_T *w = (const FC_T *)a->w + c;
    const fc_mask m = m_first(last);
    const int masked = last != FC_V, relu = (a->flags & FC_FLAG_RELU) != 0;
    const int NT = (R - 1) * S + 3, NI = (P - 1) * S + 3;
    fc_vec wv[9], acc[4][FC_DWH_P];
#pragma GCC unroll 9
    for (int t = 0; t < 9; t++) wv[t] = v_load(w + t * Cp);
    const fc_vec b = v_load((const FC_T *)a->bias + c);
#pragma GCC unroll 4
    for (int r = 0; r < R; r++)
#pragma GCC unroll 8
        for (int p = 0; p < P; p++) acc[r][p] = b;
#pragma GCC unroll 9
    for (int t = 0; t < NT; t++) {
        if (t < tlo || t >= thi) continue;
        const int64_t xr = xo + t * WC;
#pragma GCC unroll 17
        for (int i = 0; i < NI; i++) {
            if (edge && (i < ilo || i >= ihi)) continue;
            const FC_T *s = x + (xr + i * C);
            fc_vec xv = masked ? v_loadm(s, m) : v_load(s);
            FC_DWH_KEEP(xv);
#pragma GCC unroll 4
            for (int r = 0; r < R; r++) {
                const int kh = t - r * S;
                if (kh < 0 || kh > 2) continue;
#pragma GCC unroll 3
                for (int kw = 0; kw < 3; kw++) {
                    const int q = i - kw;
                    if (q >= 0 && q % S == 0 && q / S < P)
                        acc[r][q / S] = v_fma(xv, wv[kh * 3 + kw], acc[r][q / S]);
                }
            }
        }
    }
#pragma GCC unroll 4
    for (int r = 0; r < R; r++)
#pragma GCC unroll 8
        for (int p = 0; p < P; p++) {
            fc_vec v = relu ? v_relu(acc[r][p]) : acc[r][p];
            FC_T *d = y + r * OWC + p * YS + c;
            if (masked) v_storem(d, v, m);
            else v_store(d, v);
        }
}

/* fc_dwh3_tile over every channel vector of the call (y: pixel `ow` of row oh). */
FC_INLINE void fc_dwh3_cols(int R, int S, int P, int edge, const fc_dwconv_nhwc_args *a,
                            FC_T *y, int64_t xo, int64_t tlo, int64_t thi, int64_t ilo,
                            int64_t ihi) {
    for (int64_t c = a->c0; c < a->c1; c += FC_V)
        fc_dwh3_tile(R, S, P, edge, a, y, xo, c, a->c1 - c >= FC_V ? FC_V : a->c1 - c, tlo,
                     thi, ilo, ihi);
}

#define FC_DWH3_CASE(n)                                                                    \
    case n:                                                                               \
        if (edge) fc_dwh3_cols(R, S, n, 1, a, y, xo, tlo, thi, ilo, ihi);                 \
        else fc_dwh3_cols(R, S, n, 0, a, y, xo, tlo, thi, 0, 0);                          \
        break;
/* Output rows [oh, oh + R) (pixels [ow0, ow1) of each) in tiles of up to
 * FC_DWH_P pixels: the first and last tiles of a row take the padding in
 * their stride (the `edge` instances), one pass over the row. */
FC_INLINE void fc_dwh3_rows_of(int R, int S, const fc_dwconv_nhwc_args *a, int64_t oh) {
    const int64_t ih0 = oh * S - a->PT, NT = (R - 1) * S + 3;
    const int64_t tlo = ih0 < 0 ? -ih0 : 0;
    int64_t thi = a->H - ih0 < NT ? a->H - ih0 : NT;
    if (thi < tlo) thi = tlo;
    FC_T *yr = (FC_T *)a->y + oh * a->OW * a->C;
    for (int64_t ow = a->ow0; ow < a->ow1;) {
        const int64_t n = fc_min64(R > 1 ? 2 * FC_DWH_P / R : FC_DWH_P, a->ow1 - ow), iw0 = ow * S - a->PL;
        const int64_t NI = (n - 1) * S + 3, ilo = iw0 < 0 ? -iw0 : 0;
        int64_t ihi = a->W - iw0 < NI ? a->W - iw0 : NI;
        if (ihi < ilo) ihi = ilo;
        const int edge = ilo > 0 || ihi < NI;
        const int64_t xo = (ih0 * a->W + iw0) * a->C;
        FC_T *y = yr + ow * a->YS;
        switch (n) {
            FC_DWH3_CASE(1) FC_DWH3_CASE(2) FC_DWH3_CASE(3) FC_DWH3_CASE(4)
            FC_DWH3_CASE(5) FC_DWH3_CASE(6) FC_DWH3_CASE(7) FC_DWH3_CASE(8)
        }
        ow += n;
    }
}
#undef FC_DWH3_CASE

/* Rows [oh0, oh1) of a 3x3 undilated kernel of stride S, four at a time (4
 * pixels a tile; then a pair, 8 pixels a tile, and a lone row): the input rows
 * of a group are loaded once for all its rows, so a row group of 4 reads
 * (3S + 3) / 4 input rows per output row instead of (S + 3) / 2 for pairs:
 * 0.82-0.92 of the pairs' time on the MobileNet layers (1 thread, measured
 * interleaved; groups of 8 by 2 pixels were no better). */
FC_INLINE void fc_dwh3_rows(int S, const fc_dwconv_nhwc_args *a) {
    int64_t oh = a->oh0;
    for (; oh + 4 <= a->oh1; oh += 4) fc_dwh3_rows_of(4, S, a, oh);
    if (oh + 2 <= a->oh1) {
        fc_dwh3_rows_of(2, S, a, oh);
        oh += 2;
    }
    if (oh < a->oh1) fc_dwh3_rows_of(1, S, a, oh);
}
#else
#define FC_DWH3 0
#endif

/* Row oh: kernel rows [kh0, kh1) inside the input, ih0 the input row of
 * kernel row 0, y the output row. */
typedef struct {
    int64_t ih0, kh0, kh1;
    FC_T *y;
} fc_dwh_rowinfo;

FC_INLINE fc_dwh_rowinfo fc_dwh_rowinfo_of(const fc_dwconv_nhwc_args *a, int64_t oh) {
    fc_dwh_rowinfo r;
    r.ih0 = oh * a->SH - a->PT;
    /* kernel rows inside the input: 0 <= ih0 + kh*DH < H */
    r.kh0 = r.ih0 < 0 ? fc_cdiv(-r.ih0, a->DH) : 0;
    r.kh1 = fc_min64(a->KH, fc_fdiv(a->H - 1 - r.ih0, a->DH) + 1);
    if (r.kh1 < r.kh0) r.kh1 = r.kh0;
    r.y = (FC_T *)a->y + oh * a->OW * a->C;
    return r;
}

/* The edge pixels of a row, [ow0, e0) and [e1, ow1), their kernel columns clamped. */
FC_INLINE void fc_dwh_edges(const fc_dwconv_nhwc_args *a, fc_dwh_rowinfo r, int64_t e0,
                            int64_t e1) {
    const int64_t W = a->W, KW = a->KW, SW = a->SW, DW = a->DW, PL = a->PL;
    for (int64_t ow = a->ow0; ow < a->ow1; ow++) {
        if (ow == e0) ow = e1;  /* skip the interior */
        if (ow >= a->ow1) break;
        int64_t iw0 = ow * SW - PL;
        int64_t kw0 = iw0 < 0 ? fc_cdiv(-iw0, DW) : 0;
        int64_t kw1 = fc_min64(KW, fc_fdiv(W - 1 - iw0, DW) + 1);
        if (kw1 < kw0) kw1 = kw0;
        fc_dwh_pixels(1, 0, 0, 0, a, r.y, r.ih0, ow, r.kh0, r.kh1, kw0, kw1);
    }
}

/* Interior pixels [ow, e1) of a row: tiles of P, then P/2, single pixels. */
FC_INLINE void fc_dwh_interior(int KWc, int SWc, int DWc, const fc_dwconv_nhwc_args *a,
                               fc_dwh_rowinfo r, int64_t ow, int64_t e1) {
    const int P = FC_DWH_P;
    const int64_t KW = a->KW;
    for (; ow + P <= e1; ow += P)
        fc_dwh_pixels(P, KWc, SWc, DWc, a, r.y, r.ih0, ow, r.kh0, r.kh1, 0, KW);
    if (KWc && ow + P / 2 <= e1) {
        fc_dwh_pixels(P / 2, KWc, SWc, DWc, a, r.y, r.ih0, ow, r.kh0, r.kh1, 0, KW);
        ow += P / 2;
    }
    for (; ow < e1; ow++)
        fc_dwh_pixels(1, KWc, SWc, DWc, a, r.y, r.ih0, ow, r.kh0, r.kh1, 0, KW);
}

/* Rows [oh0, oh1). Interior pixels: [oa, ob) have their whole window row
 * inside the input. For 3x3/1 on AVX-512, pairs of rows whose kernel rows all
 * lie inside the input share their input rows (fc_dwh_pair). */
FC_INLINE void fc_dwh_rows(int KWc, int SWc, int DWc, const fc_dwconv_nhwc_args *a) {
    const int64_t oa = fc_cdiv(a->PL, a->SW);
    const int64_t ob = fc_fdiv(a->W - 1 - (a->KW - 1) * a->DW + a->PL, a->SW) + 1;
    /* left edge [ow0, e0), interior [e0, e1), right edge [e1, ow1) */
    const int64_t e0 = fc_min64(a->ow0 > oa ? a->ow0 : oa, a->ow1);
    const int64_t e1 = fc_min64(ob, a->ow1) > e0 ? fc_min64(ob, a->ow1) : e0;
    for (int64_t oh = a->oh0; oh < a->oh1; oh++) {
        fc_dwh_rowinfo r = fc_dwh_rowinfo_of(a, oh);
        fc_dwh_edges(a, r, e0, e1);
        fc_dwh_interior(KWc, SWc, DWc, a, r, e0, e1);
    }
}

void FC_NAME(const void *args) {
    const fc_dwconv_nhwc_args *a = (const fc_dwconv_nhwc_args *)args;
    const int64_t KW = a->KW, SW = a->SW, DW = a->DW;
#if FC_DWH3
    if (DW == 1 && KW == 3 && a->DH == 1 && a->KH == 3 && a->SH == SW && (SW == 1 || SW == 2)) {
        if (SW == 1) fc_dwh3_rows(1, a);
        else fc_dwh3_rows(2, a);
        return;
    }
#endif
    if (DW == 1 && KW == 3 && SW == 1) fc_dwh_rows(3, 1, 1, a);
    else if (DW == 1 && KW == 3 && SW == 2) fc_dwh_rows(3, 2, 1, a);
    else if (DW == 1 && KW == 5 && SW == 1) fc_dwh_rows(5, 1, 1, a);
    /* the column phases of a 3x3 stride-2 grad input (conv-grad-impl.h) */
    else if (DW == 1 && KW == 2 && SW == 1) fc_dwh_rows(2, 1, 1, a);
    else if (KW == 1 && SW == 1) fc_dwh_rows(1, 1, 1, a);
    else fc_dwh_rows(0, 0, 0, a);
}
