/* Template of the dwconv_nhwc micro-kernel (contract in dwconv-kernels.h).
 * Include with FC_T, FC_SIMD (see dwconv-smallc-simd.h) and FC_NAME defined.
 *
 * Register tiles of FC_DWH_P output pixels x 2 channel vectors, every channel
 * block of a tile before the next tile (input read in address order). For the
 * common kernels (widths 1, 2, 3 and 5 stride 1, 3 stride 2, no dilation) the tap
 * geometry is a compile-time constant and each input vector of a kernel row is
 * loaded once into a register that feeds every pixel whose window covers it:
 * (P-1)*S + K loads for P*K FMAs instead of P*K. On AVX-512, 3x3/1 goes two
 * output rows at a time where both have all kernel rows inside the input, so
 * the input rows they share are loaded once (fc_dwh_pair). Pixels whose window
 * overlaps the left/right padding go one at a time, their kernel columns
 * clamped (no padded copy). */
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
#define FC_DWH_PAIRS 1  /* 3x3/1 row pairs: 9 weights + 16 accumulators need 32 registers */
/* Output rows oh, oh+1 (y: row oh) x P pixels from `ow` x one vector from
 * channel c (`last` of them valid), for a 3x3 stride-1 undilated kernel whose
 * rows all lie inside the input for both (ih0: the input row of the first):
 * each of the 4 input rows is loaded once for both output rows, the 9 weights
 * stay in registers: (P+2)*4 + 9 loads for 18*P FMAs. */
FC_INLINE void fc_dwh_pair(int P, const fc_dwconv_nhwc_args *a, FC_T *y, int64_t ih0,
                           int64_t ow, int64_t c, int64_t last) {
    const int64_t C = a->C, Cp = a->Cp, W = a->W, OWC = a->OW * C;
    const FC_T *x = (const FC_T *)a->x + c + (ih0 * W + ow - a->PL) * C;
    const FC_T *w = (const FC_T *)a->w + c;
    const fc_mask m = m_first(last);
    const int masked = last != FC_V, relu = (a->flags & FC_FLAG_RELU) != 0;
    fc_vec wv[9], acc[2][FC_DWH_P];
#pragma GCC unroll 9
    for (int t = 0; t < 9; t++) wv[t] = v_load(w + t * Cp);
    const fc_vec b = v_load((const FC_T *)a->bias + c);
#pragma GCC unroll 2
    for (int r = 0; r < 2; r++)
#pragma GCC unroll 8
        for (int p = 0; p < P; p++) acc[r][p] = b;
#pragma GCC unroll 4
    for (int t = 0; t < 4; t++) {
        const FC_T *xr = x + t * W * C;
#pragma GCC unroll 10
        for (int i = 0; i < P + 2; i++) {
            fc_vec xv = masked ? v_loadm(xr + i * C, m) : v_load(xr + i * C);
            FC_DWH_KEEP(xv);
#pragma GCC unroll 2
            for (int r = 0; r < 2; r++) {
                const int kh = t - r;
                if (kh < 0 || kh > 2) continue;
#pragma GCC unroll 3
                for (int kw = 0; kw < 3; kw++) {
                    const int q = i - kw;
                    if (q >= 0 && q < P) acc[r][q] = v_fma(xv, wv[kh * 3 + kw], acc[r][q]);
                }
            }
        }
    }
    const int64_t YS = a->YS;
    y += ow * YS + c;
#pragma GCC unroll 2
    for (int r = 0; r < 2; r++)
#pragma GCC unroll 8
        for (int p = 0; p < P; p++) {
            fc_vec v = relu ? v_relu(acc[r][p]) : acc[r][p];
            if (masked) v_storem(y + r * OWC + p * YS, v, m);
            else v_store(y + r * OWC + p * YS, v);
        }
}

/* fc_dwh_pair over every channel vector of the call. */
FC_INLINE void fc_dwh_pair_pixels(int P, const fc_dwconv_nhwc_args *a, FC_T *y, int64_t ih0,
                                  int64_t ow) {
    for (int64_t c = a->c0; c < a->c1; c += FC_V)
        fc_dwh_pair(P, a, y, ih0, ow, c, a->c1 - c >= FC_V ? FC_V : a->c1 - c);
}
#else
#define FC_DWH_PAIRS 0
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
    const int pairs = FC_DWH_PAIRS && KWc == 3 && SWc == 1 && DWc == 1 && a->KH == 3 &&
                      a->SH == 1 && a->DH == 1;
    for (int64_t oh = a->oh0; oh < a->oh1;) {
        fc_dwh_rowinfo r = fc_dwh_rowinfo_of(a, oh);
#if FC_DWH_PAIRS
        if (pairs && oh + 1 < a->oh1 && r.ih0 >= 0 && r.ih0 + 3 < a->H) {
            fc_dwh_rowinfo r2 = fc_dwh_rowinfo_of(a, oh + 1);
            fc_dwh_edges(a, r, e0, e1);
            fc_dwh_edges(a, r2, e0, e1);
            int64_t ow = e0;
            for (; ow + FC_DWH_P <= e1; ow += FC_DWH_P)
                fc_dwh_pair_pixels(FC_DWH_P, a, r.y, r.ih0, ow);
            if (ow + FC_DWH_P / 2 <= e1) {
                fc_dwh_pair_pixels(FC_DWH_P / 2, a, r.y, r.ih0, ow);
                ow += FC_DWH_P / 2;
            }
            fc_dwh_interior(KWc, SWc, DWc, a, r, ow, e1);
            fc_dwh_interior(KWc, SWc, DWc, a, r2, ow, e1);
            oh += 2;
            continue;
        }
#else
        (void)pairs;
#endif
        fc_dwh_edges(a, r, e0, e1);
        fc_dwh_interior(KWc, SWc, DWc, a, r, e0, e1);
        oh++;
    }
}

void FC_NAME(const void *args) {
    const fc_dwconv_nhwc_args *a = (const fc_dwconv_nhwc_args *)args;
    const int64_t KW = a->KW, SW = a->SW, DW = a->DW;
    if (DW == 1 && KW == 3 && SW == 1) fc_dwh_rows(3, 1, 1, a);
    else if (DW == 1 && KW == 3 && SW == 2) fc_dwh_rows(3, 2, 1, a);
    else if (DW == 1 && KW == 5 && SW == 1) fc_dwh_rows(5, 1, 1, a);
    /* the column phases of a 3x3 stride-2 grad input (conv-grad-impl.h) */
    else if (DW == 1 && KW == 2 && SW == 1) fc_dwh_rows(2, 1, 1, a);
    else if (KW == 1 && SW == 1) fc_dwh_rows(1, 1, 1, a);
    else fc_dwh_rows(0, 0, 0, a);
}
