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

#if FC_SIMD > 0
/* The 3x3 tile: NB channel vectors x P pixels of a row, 9*NB accumulators +
 * P*NB grad_output vectors + NB in registers (AVX-512: both vectors of a
 * block, 4 pixels; AVX2: one vector, 4 pixels). */
#ifndef FC_DWGW3_NB
#define FC_DWGW3_NB (FC_SIMD == 3 ? FC_NV : 1)
#endif
#ifndef FC_DWGW3_P
#define FC_DWGW3_P 4
#endif
/* 3x3 taps (tap (kh, kw) at kh*xr + kw*d), pixels x_cs = S*d apart (S 1 or
 * 2): the tile's grad_output vectors stay in registers and each input vector
 * of a kernel row is loaded once and fed to every (pixel, kw) it meets:
 * 1 + 3((P-1)S + 3)/P loads per pixel and vector instead of 10, the generic
 * walk's load ports were its bound. Each tap's sum runs over the pixels in
 * the walk's order. `masked`: the last of the nb vectors holds the lanes m. */
static inline __attribute__((always_inline)) const FC_T *fc_dwgw3_step(const FC_T *p, size_t by) {
    p += by;
    __asm__("" : "+r"(p));
    return p;
}

static inline __attribute__((always_inline)) void
fc_dwgw3_tile(int P, int S, int nb, int masked, fc_mask m, const FC_T *g, size_t gy_cs,
              const FC_T *x, size_t d, size_t xr, fc_vec a[9][FC_DWGW3_NB]) {
    fc_vec gv[FC_DWGW3_P][FC_DWGW3_NB];
    /* pointers stepped by adds hidden from the optimiser: it made i*d and
       p*gy_cs for every i, p loop-invariant offsets, spilled from the
       general registers (a reload per load) */
#pragma GCC unroll 16
    for (int p = 0; p < P; p++, g = fc_dwgw3_step(g, gy_cs))
#pragma GCC unroll 8
        for (int v = 0; v < nb; v++) {
            const FC_T *s = g + v * FC_V;
            gv[p][v] = masked && v == nb - 1 ? v_loadm(s, m) : v_load(s);
        }
#pragma GCC unroll 3
    for (int kh = 0; kh < 3; kh++, x = fc_dwgw3_step(x, xr)) {
        const FC_T *xi = x;
#pragma GCC unroll 40
        for (int i = 0; i < (P - 1) * S + 3; i++, xi = fc_dwgw3_step(xi, d))
#pragma GCC unroll 8
            for (int v = 0; v < nb; v++) {
                const FC_T *s = xi + v * FC_V;
                fc_vec xv = masked && v == nb - 1 ? v_loadm(s, m) : v_load(s);
                /* one load for its 3 FMAs: gcc folds it into each FMA otherwise */
                __asm__("" : "+v"(xv));
#pragma GCC unroll 3
                for (int kw = 0; kw < 3; kw++) {
                    const int q = i - kw;
                    if (q >= 0 && q % S == 0 && q / S < P)
                        a[kh * 3 + kw][v] = v_fma(gv[q / S][v], xv, a[kh * 3 + kw][v]);
                }
            }
    }
}

static inline __attribute__((always_inline)) void
fc_dwgw3_walk(int S, int nb, int masked, fc_mask m, size_t rows, size_t cols, const FC_T *gy,
              size_t gy_cs, size_t gy_rs, const FC_T *x, size_t d, size_t x_rs, size_t xr,
              fc_vec a[9][FC_DWGW3_NB]) {
    for (size_t r = 0; r < rows; r++) {
        const FC_T *g = gy + r * gy_rs, *xp = x + r * x_rs;
        size_t q = 0;
        for (; q + FC_DWGW3_P <= cols; q += FC_DWGW3_P)
            fc_dwgw3_tile(FC_DWGW3_P, S, nb, masked, m, g + q * gy_cs, gy_cs, xp + q * S * d, d,
                          xr, a);
        for (; q < cols; q++)
            fc_dwgw3_tile(1, S, nb, masked, m, g + q * gy_cs, gy_cs, xp + q * S * d, d, xr, a);
    }
}

/* Planar 3x3 (the lanes are pixels of a row: tap (kh, kw) at kh*x_rs + kw,
 * grad_output and input blocks the same x_cs apart, NCHW planes): R rows of
 * grad_output in registers, each input vector (row i, column kw) loaded once
 * for the (up to 3) rows it meets: (3(R + 2) + R) / R loads a grad_output
 * vector instead of 10, most of them unaligned (1 thread, 32 channels @112:
 * the generic walk was bound by them). */
static inline __attribute__((always_inline)) void
fc_dwgw3p_tile(int R, int nb, int masked, fc_mask m, const FC_T *g, size_t gy_rs,
               const FC_T *x, size_t x_rs, fc_vec a[9][FC_DWGW3_NB]) {
    fc_vec gv[4][FC_DWGW3_NB];
#pragma GCC unroll 4
    for (int r = 0; r < R; r++)
#pragma GCC unroll 8
        for (int v = 0; v < nb; v++) {
            const FC_T *s = g + r * gy_rs + v * FC_V;
            gv[r][v] = masked && v == nb - 1 ? v_loadm(s, m) : v_load(s);
        }
#pragma GCC unroll 6
    for (int i = 0; i < R + 2; i++, x = fc_dwgw3_step(x, x_rs))
#pragma GCC unroll 3
        for (int kw = 0; kw < 3; kw++)
#pragma GCC unroll 8
            for (int v = 0; v < nb; v++) {
                const FC_T *s = x + kw + v * FC_V;
                fc_vec xv = masked && v == nb - 1 ? v_loadm(s, m) : v_load(s);
                __asm__("" : "+v"(xv));
#pragma GCC unroll 4
                for (int r = 0; r < R; r++) {
                    const int kh = i - r;
                    if (kh >= 0 && kh <= 2) a[kh * 3 + kw][v] = v_fma(gv[r][v], xv, a[kh * 3 + kw][v]);
                }
            }
}

static inline __attribute__((always_inline)) void
fc_dwgw3p_walk(int nb, int masked, fc_mask m, size_t rows, size_t cols, const FC_T *gy,
               size_t cs, size_t gy_rs, const FC_T *x, size_t x_rs, fc_vec a[9][FC_DWGW3_NB]) {
    size_t r = 0;
    for (; r + 4 <= rows; r += 4)
        for (size_t q = 0; q < cols; q++)
            fc_dwgw3p_tile(4, nb, masked, m, gy + r * gy_rs + q * cs, gy_rs, x + r * x_rs + q * cs,
                           x_rs, a);
    for (; r < rows; r++)
        for (size_t q = 0; q < cols; q++)
            fc_dwgw3p_tile(1, nb, masked, m, gy + r * gy_rs + q * cs, gy_rs, x + r * x_rs + q * cs,
                           x_rs, a);
}

/* The 3x3 walk when off[] and x_cs have its shape; 1 when it ran. */
static inline int fc_dwgw3(size_t rows, size_t cols, size_t nt, size_t nc, const FC_T *gy,
                           size_t gy_cs, size_t gy_rs, const FC_T *x, size_t x_cs, size_t x_rs,
                           const int64_t *off, FC_T *acc, size_t ldacc) {
    if (nt != 9 || FC_MR < 9) return 0;
    const int64_t d = off[1] - off[0], xr = off[3] - off[0];
    if (d <= 0 || xr <= 0) return 0;
    for (int t = 0; t < 9; t++)
        if (off[t] != off[0] + (t / 3) * xr + (t % 3) * d) return 0;
    int S;
    const int planar = d == 1 && xr == (int64_t)x_rs && x_cs == gy_cs && x_cs >= (size_t)FC_V;
    if (planar) S = 0;
    else if ((int64_t)x_cs == d) S = 1;
    else if ((int64_t)x_cs == 2 * d) S = 2;
    else return 0;
    x += off[0];
    for (size_t v0 = 0; v0 < FC_NV && v0 * FC_V < nc; v0 += FC_DWGW3_NB) {
        /* nb vectors of this block hold channels, the last one n of them */
        const size_t left = nc - v0 * FC_V;
        const int nb = left >= (size_t)FC_DWGW3_NB * FC_V ? FC_DWGW3_NB
                                                          : (int)((left + FC_V - 1) / FC_V);
        const size_t n = left - (size_t)(nb - 1) * FC_V;
        const fc_mask m = m_first((int64_t)(n > FC_V ? FC_V : n));
        const int masked = n < FC_V;
        fc_vec a[9][FC_DWGW3_NB];
#pragma GCC unroll 9
        for (int t = 0; t < 9; t++)
#pragma GCC unroll 8
            for (int v = 0; v < FC_DWGW3_NB; v++)
                a[t][v] = v_load(acc + t * ldacc + (v0 + v) * FC_V);
        const FC_T *gv = gy + v0 * FC_V, *xv = x + v0 * FC_V;
#define FC_DWGW3_GO(S_, NB_, M_)                                                              \
    fc_dwgw3_walk(S_, NB_, M_, m, rows, cols, gv, gy_cs, gy_rs, xv, (size_t)d, x_rs, (size_t)xr, a)
        if (S == 0) {
            /* planar: the short block's vectors go together, the last masked */
            if (!masked && nb == FC_DWGW3_NB)
                fc_dwgw3p_walk(FC_DWGW3_NB, 0, m, rows, cols, gv, gy_cs, gy_rs, xv, x_rs, a);
            else if (nb == FC_DWGW3_NB)
                fc_dwgw3p_walk(FC_DWGW3_NB, 1, m, rows, cols, gv, gy_cs, gy_rs, xv, x_rs, a);
#if FC_DWGW3_NB > 1
            else
                fc_dwgw3p_walk(1, masked, m, rows, cols, gv, gy_cs, gy_rs, xv, x_rs, a);
#endif
        } else if (nb == FC_DWGW3_NB && !masked) {
            if (S == 1) FC_DWGW3_GO(1, FC_DWGW3_NB, 0);
            else FC_DWGW3_GO(2, FC_DWGW3_NB, 0);
        } else if (nb == FC_DWGW3_NB) {
            if (S == 1) FC_DWGW3_GO(1, FC_DWGW3_NB, 1);
            else FC_DWGW3_GO(2, FC_DWGW3_NB, 1);
        } else {
            /* a short block (FC_DWGW3_NB > 1): one vector at a time */
            for (int v = 0; v < nb; v++) {
                fc_vec b[9][FC_DWGW3_NB];
                const int mv = v == nb - 1 && masked;
                const fc_mask mm = mv ? m : m_first(FC_V);
                for (int t = 0; t < 9; t++) b[t][0] = a[t][v];
                const FC_T *gw1 = gv + v * FC_V, *xw1 = xv + v * FC_V;
                if (S == 1 && mv)
                    fc_dwgw3_walk(1, 1, 1, mm, rows, cols, gw1, gy_cs, gy_rs, xw1, (size_t)d, x_rs, (size_t)xr, b);
                else if (S == 1)
                    fc_dwgw3_walk(1, 1, 0, mm, rows, cols, gw1, gy_cs, gy_rs, xw1, (size_t)d, x_rs, (size_t)xr, b);
                else if (mv)
                    fc_dwgw3_walk(2, 1, 1, mm, rows, cols, gw1, gy_cs, gy_rs, xw1, (size_t)d, x_rs, (size_t)xr, b);
                else
                    fc_dwgw3_walk(2, 1, 0, mm, rows, cols, gw1, gy_cs, gy_rs, xw1, (size_t)d, x_rs, (size_t)xr, b);
                for (int t = 0; t < 9; t++) a[t][v] = b[t][0];
            }
        }
#undef FC_DWGW3_GO
#pragma GCC unroll 9
        for (int t = 0; t < 9; t++)
#pragma GCC unroll 8
            for (int v = 0; v < nb; v++) v_store(acc + t * ldacc + (v0 + v) * FC_V, a[t][v]);
    }
    return 1;
}
#endif

void FC_NAME(size_t rows, size_t cols, size_t nt, size_t nc, const FC_T *gy, size_t gy_cs,
             size_t gy_rs, const FC_T *x, size_t x_cs, size_t x_rs, const int64_t *off, FC_T *acc,
             size_t ldacc) {
#if FC_SIMD > 0
    if (fc_dwgw3(rows, cols, nt, nc, gy, gy_cs, gy_rs, x, x_cs, x_rs, off, acc, ldacc)) return;
#endif
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
