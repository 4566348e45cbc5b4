/* Template of the pooling micro-kernels (contracts in pool-ukernels.h).
 *
 * Include with FC_T (element type), FC_TABLE_TYPE (the table struct) and
 * FC_TABLE_FN (name of the registered function returning the table) defined.
 * The loops are plain C written for the auto-vectoriser: one unit per ISA
 * includes this file and its compiler flags (-mavx2 / -mavx512f ...) decide
 * the vector width; every kernel is `static`, so no code is shared between
 * units built with different flags. The selects are branch-free on purpose
 * (`(a | b) ? v : m` on ints vectorises to masked blends). */
#include "pool-ukernels.h"

/* gcc's unroll-and-jam fuses two rows' passes into one scalar, branchy loop
 * that no longer vectorises: keep every row pass a plain vector loop */
#if defined(__GNUC__) && !defined(__clang__)
#define FC_NOJAM __attribute__((optimize("no-loop-unroll-and-jam")))
#else
#define FC_NOJAM
#endif

/* zero npix pixels of `bytes` bytes each, `stride` bytes apart */
static inline void fc_zero_px(void *p, int64_t npix, size_t bytes, size_t stride) {
    if (npix <= 0) return;
    if (bytes == stride) {
        memset(p, 0, (size_t)npix * bytes);
        return;
    }
    for (int64_t q = 0; q < npix; q++) memset((char *)p + (size_t)q * stride, 0, bytes);
}

#define FC_INLINE static inline __attribute__((always_inline))

/* lanes of the explicit reduction accumulators: one 64-byte vector */
#define FC_LANES (64 / sizeof(FC_T))

FC_NOJAM static void vmax(size_t n, size_t nr, const FC_T *const *x, FC_T *restrict y, int acc) {
    size_t r = 0;
    if (!acc) {
        memcpy(y, x[0], n * sizeof(FC_T));
        r = 1;
    }
    for (; r + 1 < nr; r += 2) {  /* two rows per pass over y */
        const FC_T *restrict a = x[r], *restrict b = x[r + 1];
        for (size_t i = 0; i < n; i++) {
            FC_T m = y[i], v = a[i], w = b[i];
            m = ((v > m) | (v != v)) ? v : m;
            y[i] = ((w > m) | (w != w)) ? w : m;
        }
    }
    if (r < nr) {
        const FC_T *restrict a = x[r];
        for (size_t i = 0; i < n; i++) {
            FC_T m = y[i], v = a[i];
            y[i] = ((v > m) | (v != v)) ? v : m;
        }
    }
}

FC_NOJAM static void vmaxarg(size_t n, size_t nr, const FC_T *const *x, FC_T *restrict y,
                    int32_t *restrict arg, int32_t t0, int acc) {
    size_t r = 0;
    if (!acc) {
        memcpy(y, x[0], n * sizeof(FC_T));
        for (size_t i = 0; i < n; i++) arg[i] = t0;
        r = 1;
    }
    for (; r < nr; r++) {
        const FC_T *restrict a = x[r];
        const int32_t t = t0 + (int32_t)r;
        for (size_t i = 0; i < n; i++) {
            FC_T m = y[i], v = a[i];
            int take = (v > m) | (v != v);
            y[i] = take ? v : m;
            arg[i] = take ? t : arg[i];
        }
    }
}

FC_NOJAM static void vmaxarg_ranked(size_t n, size_t nr, const FC_T *const *x,
                           const int32_t *const *rank, FC_T *restrict y, int32_t *restrict arg,
                           int32_t *restrict rank_out, int32_t t0, int acc) {
    size_t r = 0;
    if (!acc) {
        memcpy(y, x[0], n * sizeof(FC_T));
        memcpy(rank_out, rank[0], n * sizeof(int32_t));
        for (size_t i = 0; i < n; i++) arg[i] = t0;
        r = 1;
    }
    for (; r < nr; r++) {
        const FC_T *restrict a = x[r];
        const int32_t *restrict ra = rank[r];
        const int32_t t = t0 + (int32_t)r;
        for (size_t i = 0; i < n; i++) {
            FC_T m = y[i], v = a[i];
            int32_t h = ra[i], hm = rank_out[i];
            int vn = v != v, mn = m != m;
            /* a NaN wins unless a NaN of a later window row is held (row-major last NaN);
               a number wins over no NaN if greater, or equal from an earlier window row */
            int take = (vn & ((mn ^ 1) | (h >= hm))) |
                       ((vn ^ 1) & (mn ^ 1) & ((v > m) | ((v == m) & (h < hm))));
            y[i] = take ? v : m;
            arg[i] = take ? t : arg[i];
            rank_out[i] = take ? h : hm;
        }
    }
}

FC_NOJAM static void vsum(size_t n, size_t nr, const FC_T *const *x, FC_T *restrict y, int acc) {
    size_t r = 0;
    if (!acc) {
        if (nr == 0) {
            memset(y, 0, n * sizeof(FC_T));
            return;
        }
        memcpy(y, x[0], n * sizeof(FC_T));
        r = 1;
    }
    for (; r + 1 < nr; r += 2) {
        const FC_T *restrict a = x[r], *restrict b = x[r + 1];
        for (size_t i = 0; i < n; i++) y[i] = (y[i] + a[i]) + b[i];
    }
    if (r < nr) {
        const FC_T *restrict a = x[r];
        for (size_t i = 0; i < n; i++) y[i] += a[i];
    }
}

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

/* y[j] = t[j], or u[j] where greater or NaN, for j < h (pool2x2s2's vertical pairs) */
#define FC_P22_VMAX(NAME, T, V, M, L, SFX)                                                 \
    FC_INLINE void NAME(size_t h, const T *t, const T *u, T *y) {                          \
        for (size_t j = 0; j < h; j += L) {                                                \
            const M k = h - j >= L ? (M)~0u : (M)((1u << (h - j)) - 1);                    \
            const V m = _mm512_maskz_loadu_##SFX(k, t + j);                                \
            const V v = _mm512_maskz_loadu_##SFX(k, u + j);                                \
            const M tk = _mm512_cmp_##SFX##_mask(v, m, _CMP_GT_OQ) |                       \
                         _mm512_cmp_##SFX##_mask(v, v, _CMP_UNORD_Q);                      \
            _mm512_mask_storeu_##SFX(y + j, k, _mm512_mask_blend_##SFX(tk, m, v));         \
        }                                                                                  \
    }
/* d[q*c + e] = a[2q*c + e], or a[2q*c + c + e] where greater or NaN (NHWC pixel
 * pairs of c channels, masked: the scalar select of 6 channels compiled to
 * branches that random data mispredicts, 5x slower than the old path) */
#define FC_P22_HMAX(NAME, T, V, M, L, SFX)                                                 \
    FC_INLINE void NAME(size_t n, size_t c, const T *a, T *d) {                            \
        for (size_t q = 0; q < n / c; q++)                                                 \
            for (size_t e = 0; e < c; e += L) {                                            \
                const M k = c - e >= L ? (M)~0u : (M)((1u << (c - e)) - 1);                \
                const V m = _mm512_maskz_loadu_##SFX(k, a + 2 * q * c + e);                \
                const V v = _mm512_maskz_loadu_##SFX(k, a + 2 * q * c + c + e);            \
                const M tk = _mm512_cmp_##SFX##_mask(v, m, _CMP_GT_OQ) |                   \
                             _mm512_cmp_##SFX##_mask(v, v, _CMP_UNORD_Q);                  \
                _mm512_mask_storeu_##SFX(d + q * c + e, k, _mm512_mask_blend_##SFX(tk, m, v)); \
            }                                                                              \
    }
#if defined(__AVX512F__)
FC_P22_VMAX(fc_p22_vmax_ps, float, __m512, __mmask16, 16, ps)
FC_P22_VMAX(fc_p22_vmax_pd, double, __m512d, __mmask8, 8, pd)
FC_P22_HMAX(fc_p22_hmax_ps, float, __m512, __mmask16, 16, ps)
FC_P22_HMAX(fc_p22_hmax_pd, double, __m512d, __mmask8, 8, pd)
#endif
#undef FC_P22_VMAX
#undef FC_P22_HMAX

/* values of pool2x2s2's buffer: 8 or 16 KiB, in L1 */
#define FC_P22_BUF 2048

/* d[q*c + e] = the pair (a[2q*c + e], a[2q*c + c + e]) for q*c + e < n (n a
 * multiple of c): summed times s (avg) or the max (a later value wins if greater
 * or NaN); NCHW (c = 1) is one flat stride-2 loop, NHWC loops over channels */
FC_INLINE void fc_p22_pairs(size_t n, size_t c, const FC_T *restrict a, FC_T *restrict d,
                            int avg, FC_T s) {
    if (c == 1) {
        if (avg)
            for (size_t j = 0; j < n; j++) d[j] = (a[2 * j] + a[2 * j + 1]) * s;
        else
            for (size_t j = 0; j < n; j++) {
                const FC_T m = a[2 * j], v = a[2 * j + 1];
                d[j] = ((v > m) | (v != v)) ? v : m;
            }
        return;
    }
#if defined(__AVX512F__)
    if (!avg) {
        if (sizeof(FC_T) == 4) fc_p22_hmax_ps(n, c, (const float *)a, (float *)d);
        else fc_p22_hmax_pd(n, c, (const double *)a, (double *)d);
        return;
    }
#endif
    for (size_t q = 0; q < n / c; q++) {
        const FC_T *restrict p = a + 2 * q * c;
        FC_T *restrict o = d + q * c;
        if (avg)
            for (size_t e = 0; e < c; e++) o[e] = (p[e] + p[c + e]) * s;
        else
            for (size_t e = 0; e < c; e++) {
                const FC_T m = p[e], v = p[c + e];
                o[e] = ((v > m) | (v != v)) ? v : m;
            }
    }
}

/* The rows of a group go through one buffer so that rows as short as LeNet's 28
 * still fill vectors (the general separable passes spent ~300 cycles a row in
 * calls and tails). avg: vertical sums of every row into rows of 2*OW pixels,
 * then one horizontal pass over all of them (NCHW: in the order of those passes,
 * bitwise equal). max: the horizontal pairs first (one pass where the group's
 * rows are contiguous and even), then the vertical pairs: a tournament in window
 * row-major order whose ties keep the earlier value, so -0 / +0 ties and NaNs
 * resolve as the row-major scan does (the column-first separable order can pick
 * the other zero). Values: a pixel is c of them (NCHW 1, NHWC the channels). */
FC_NOJAM static void pool2x2s2(size_t rows, size_t W, size_t OW, size_t c, const FC_T *x,
                               FC_T *y, int avg, FC_T s) {
    FC_T buf[FC_P22_BUF];
    const size_t wv = W * c, ov = OW * c, w2 = 2 * ov;  /* values a row */
    /* values a piece: whole pixel pairs */
    const size_t cw = w2 <= FC_P22_BUF ? w2 : FC_P22_BUF / (2 * c) * (2 * c);
    const size_t rg = w2 <= FC_P22_BUF ? FC_P22_BUF / w2 : 1; /* rows a group */
    for (size_t r0 = 0; r0 < rows; r0 += rg) {
        const size_t nr = rows - r0 < rg ? rows - r0 : rg;
        for (size_t c0 = 0; c0 < w2; c0 += cw) {
            const size_t nc = w2 - c0 < cw ? w2 - c0 : cw, h = nc / 2;
            /* nr > 1 only with whole rows (nc = 2*OW*c): the group's outputs are contiguous */
            FC_T *restrict yo = y + r0 * ov + c0 / 2;
            if (avg) {
                for (size_t r = 0; r < nr; r++) {
                    const FC_T *restrict a = x + 2 * (r0 + r) * wv + c0, *restrict b = a + wv;
                    FC_T *restrict t = buf + r * nc;
                    for (size_t i = 0; i < nc; i++) t[i] = a[i] + b[i];
                }
                fc_p22_pairs(nr * h, c, buf, yo, 1, s);
                continue;
            }
            if (nc == wv)
                fc_p22_pairs(2 * nr * h, c, x + 2 * r0 * wv, buf, 0, 0);
            else
                for (size_t q = 0; q < 2 * nr; q++)
                    fc_p22_pairs(h, c, x + (2 * r0 + q) * wv + c0, buf + q * h, 0, 0);
            for (size_t r = 0; r < nr; r++) {
                const FC_T *restrict t = buf + 2 * r * h, *restrict u = t + h;
                FC_T *restrict yr = yo + r * ov;
#if defined(__AVX512F__)
                /* masked vectors: a short row (14 outputs) is one step, not a loop tail */
                if (sizeof(FC_T) == 4)
                    fc_p22_vmax_ps(h, (const float *)t, (const float *)u, (float *)yr);
                else
                    fc_p22_vmax_pd(h, (const double *)t, (const double *)u, (double *)yr);
                continue;
#endif
                for (size_t j = 0; j < h; j++) {
                    const FC_T m = t[j], v = u[j];
                    yr[j] = ((v > m) | (v != v)) ? v : m;
                }
            }
        }
    }
}

static void vscale(size_t n, FC_T s, const FC_T *restrict cs, FC_T *restrict y) {
    if (cs == NULL) {
        for (size_t i = 0; i < n; i++) y[i] *= s;
    } else {
        for (size_t i = 0; i < n; i++) y[i] *= s * cs[i];
    }
}

FC_NOJAM static void vaxpy(size_t n, size_t nr, FC_T *const *y, const FC_T *x, FC_T s) {
    for (size_t r = 0; r < nr; r++) {
        FC_T *restrict yr = y[r];
        const FC_T *restrict xr = x;
        if (s == (FC_T)1) {
            for (size_t i = 0; i < n; i++) yr[i] += xr[i];
        } else {
            for (size_t i = 0; i < n; i++) yr[i] += s * xr[i];
        }
    }
}

FC_NOJAM static void vscatter_arg(size_t n, size_t nr, FC_T *const *y, const FC_T *g,
                         const int32_t *arg, int32_t t0) {
    for (size_t r = 0; r < nr; r++) {
        FC_T *restrict yr = y[r];
        const FC_T *restrict gr = g;
        const int32_t *restrict ar = arg;
        const int32_t t = t0 + (int32_t)r;
        for (size_t i = 0; i < n; i++) yr[i] += (ar[i] == t) ? gr[i] : (FC_T)0;
    }
}

/* one PyTorch max step: a later value wins if greater or NaN */
#define FC_TAKE(v, m) (((v) > (m)) | ((v) != (v)))

#if defined(__AVX512F__)
#include <immintrin.h>
/* a masked store; with nt, a full vector at a 64-byte boundary is streamed past the caches
 * (a write-once gradient far larger than them then skips each line's read for ownership:
 * 1.6-1.8x a plain fill here). The driver fences (sfence) once a thread is done. */
FC_INLINE void fc_put_ps(float *p, __mmask16 mk, __m512 v, int nt) {
    if (nt && mk == (__mmask16)0xFFFF && ((uintptr_t)p & 63) == 0) _mm512_stream_ps(p, v);
    else _mm512_mask_storeu_ps(p, mk, v);
}
FC_INLINE void fc_put_pd(double *p, __mmask8 mk, __m512d v, int nt) {
    if (nt && mk == (__mmask8)0xFF && ((uintptr_t)p & 63) == 0) _mm512_stream_pd(p, v);
    else _mm512_mask_storeu_pd(p, mk, v);
}
/* d[0, n) = s[0, n), streamed from d's first 64-byte boundary, the ends masked */
#define FC_STREAM(SFX, T, M, L)                                                                \
    FC_INLINE void fc_stream_##SFX(T *d, const T *s, int64_t n) {                              \
        int64_t i = fc_min64(n, (int64_t)(((64 - ((uintptr_t)d & 63)) & 63) / sizeof(T)));     \
        if (i > 0) _mm512_mask_storeu_##SFX(d, (M)((1u << i) - 1), _mm512_loadu_##SFX(s));     \
        for (; i + L <= n; i += L) _mm512_stream_##SFX(d + i, _mm512_loadu_##SFX(s + i));      \
        if (i < n)                                                                             \
            _mm512_mask_storeu_##SFX(d + i, (M)((1u << (n - i)) - 1),                          \
                                     _mm512_loadu_##SFX(s + i));                               \
    }
FC_STREAM(ps, float, __mmask16, 16)
FC_STREAM(pd, double, __mmask8, 8)
#undef FC_STREAM
/* 2x2/2 NCHW gradient, 16 (float) or 8 (double) outputs a step, the last one masked:
 * the auto-vectoriser gives up on the chained selects of interleaved columns (and
 * its scalar fallback branches on random data). Returns outputs done (n). */
static size_t maxbwd_2x2_f32(size_t n, const float *a, const float *b, const float *g,
                             float *ga, float *gb, int nt) {
    const __m512i ev = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i od = _mm512_add_epi32(ev, _mm512_set1_epi32(1));
    const __m512i lo = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const __m512i hi = _mm512_add_epi32(lo, _mm512_set1_epi32(8));
    size_t o = 0;
    for (; o < n; o += 16) { /* the last step masked: no scalar tail */
        const size_t r = n - o < 16 ? n - o : 16;
        const __mmask16 mo = (__mmask16)((1u << r) - 1);
        const __mmask16 m0 = (__mmask16)(r >= 8 ? 0xFFFFu : (1u << (2 * r)) - 1);
        const __mmask16 m1 = (__mmask16)(r <= 8 ? 0 : (1u << (2 * r - 16)) - 1);
        __m512 a0 = _mm512_maskz_loadu_ps(m0, a + 2 * o),
               a1 = _mm512_maskz_loadu_ps(m1, a + 2 * o + 16);
        __m512 b0 = _mm512_maskz_loadu_ps(m0, b + 2 * o),
               b1 = _mm512_maskz_loadu_ps(m1, b + 2 * o + 16);
        __m512 v0 = _mm512_permutex2var_ps(a0, ev, a1), v1 = _mm512_permutex2var_ps(a0, od, a1);
        __m512 v2 = _mm512_permutex2var_ps(b0, ev, b1), v3 = _mm512_permutex2var_ps(b0, od, b1);
        __mmask16 k1 = _mm512_cmp_ps_mask(v1, v0, _CMP_GT_OQ) |
                _mm512_cmp_ps_mask(v1, v1, _CMP_UNORD_Q);
        __m512 m = _mm512_mask_blend_ps(k1, v0, v1);
        __mmask16 k2 = _mm512_cmp_ps_mask(v2, m, _CMP_GT_OQ) |
                _mm512_cmp_ps_mask(v2, v2, _CMP_UNORD_Q);
        m = _mm512_mask_blend_ps(k2, m, v2);
        __mmask16 k3 = _mm512_cmp_ps_mask(v3, m, _CMP_GT_OQ) |
                _mm512_cmp_ps_mask(v3, v3, _CMP_UNORD_Q);
        __mmask16 n3 = (__mmask16)~k3, n23 = (__mmask16)(n3 & ~k2);
        __m512 gv = _mm512_maskz_loadu_ps(mo, g + o);
        __m512 e0 = _mm512_maskz_mov_ps((__mmask16)(n23 & ~k1), gv);
        __m512 e1 = _mm512_maskz_mov_ps((__mmask16)(n23 & k1), gv);
        __m512 e2 = _mm512_maskz_mov_ps((__mmask16)(n3 & k2), gv);
        __m512 e3 = _mm512_maskz_mov_ps(k3, gv);
        fc_put_ps(ga + 2 * o, m0, _mm512_permutex2var_ps(e0, lo, e1), nt);
        fc_put_ps(ga + 2 * o + 16, m1, _mm512_permutex2var_ps(e0, hi, e1), nt);
        fc_put_ps(gb + 2 * o, m0, _mm512_permutex2var_ps(e2, lo, e3), nt);
        fc_put_ps(gb + 2 * o + 16, m1, _mm512_permutex2var_ps(e2, hi, e3), nt);
    }
    return o;
}

static size_t maxbwd_2x2_f64(size_t n, const double *a, const double *b, const double *g,
                             double *ga, double *gb, int nt) {
    const __m512i ev = _mm512_setr_epi64(0, 2, 4, 6, 8, 10, 12, 14);
    const __m512i od = _mm512_add_epi64(ev, _mm512_set1_epi64(1));
    const __m512i lo = _mm512_setr_epi64(0, 8, 1, 9, 2, 10, 3, 11);
    const __m512i hi = _mm512_add_epi64(lo, _mm512_set1_epi64(4));
    size_t o = 0;
    for (; o < n; o += 8) {
        const size_t r = n - o < 8 ? n - o : 8;
        const __mmask8 mo = (__mmask8)((1u << r) - 1);
        const __mmask8 m0 = (__mmask8)(r >= 4 ? 0xFFu : (1u << (2 * r)) - 1);
        const __mmask8 m1 = (__mmask8)(r <= 4 ? 0 : (1u << (2 * r - 8)) - 1);
        __m512d a0 = _mm512_maskz_loadu_pd(m0, a + 2 * o),
                a1 = _mm512_maskz_loadu_pd(m1, a + 2 * o + 8);
        __m512d b0 = _mm512_maskz_loadu_pd(m0, b + 2 * o),
                b1 = _mm512_maskz_loadu_pd(m1, b + 2 * o + 8);
        __m512d v0 = _mm512_permutex2var_pd(a0, ev, a1), v1 = _mm512_permutex2var_pd(a0, od, a1);
        __m512d v2 = _mm512_permutex2var_pd(b0, ev, b1), v3 = _mm512_permutex2var_pd(b0, od, b1);
        __mmask8 k1 = _mm512_cmp_pd_mask(v1, v0, _CMP_GT_OQ) |
                _mm512_cmp_pd_mask(v1, v1, _CMP_UNORD_Q);
        __m512d m = _mm512_mask_blend_pd(k1, v0, v1);
        __mmask8 k2 = _mm512_cmp_pd_mask(v2, m, _CMP_GT_OQ) |
                _mm512_cmp_pd_mask(v2, v2, _CMP_UNORD_Q);
        m = _mm512_mask_blend_pd(k2, m, v2);
        __mmask8 k3 = _mm512_cmp_pd_mask(v3, m, _CMP_GT_OQ) |
                _mm512_cmp_pd_mask(v3, v3, _CMP_UNORD_Q);
        __mmask8 n3 = (__mmask8)~k3, n23 = (__mmask8)(n3 & ~k2);
        __m512d gv = _mm512_maskz_loadu_pd(mo, g + o);
        __m512d e0 = _mm512_maskz_mov_pd((__mmask8)(n23 & ~k1), gv);
        __m512d e1 = _mm512_maskz_mov_pd((__mmask8)(n23 & k1), gv);
        __m512d e2 = _mm512_maskz_mov_pd((__mmask8)(n3 & k2), gv);
        __m512d e3 = _mm512_maskz_mov_pd(k3, gv);
        fc_put_pd(ga + 2 * o, m0, _mm512_permutex2var_pd(e0, lo, e1), nt);
        fc_put_pd(ga + 2 * o + 8, m1, _mm512_permutex2var_pd(e0, hi, e1), nt);
        fc_put_pd(gb + 2 * o, m0, _mm512_permutex2var_pd(e2, lo, e3), nt);
        fc_put_pd(gb + 2 * o + 8, m1, _mm512_permutex2var_pd(e2, hi, e3), nt);
    }
    return o;
}

/* NHWC tiled gradient: channel vectors of 16 / 8, the last masked; the window's
 * argmax tap kept as a vector of ints. Same contract as maxbwd_tiled. */
#define FC_NHWC_TILED(NAME, T, V, M, L, SFX, IV, ISFX, ILOAD)                                  \
    FC_INLINE void NAME##_body(size_t n, size_t c, size_t ld, size_t s, size_t kw, size_t kh,            \
                               const T *const *x, const T *g, T *const *gx, int nt) {                   \
        for (size_t o = 0; o < n; o++) {                                                       \
            const size_t gap = o + 1 < n ? s - kw : 0;                                         \
            for (size_t c0 = 0; c0 < c; c0 += L) {                                             \
                const size_t r = c - c0 < L ? c - c0 : L;                                      \
                const M mk = (M)((1u << r) - 1);                                               \
                const T *gp = g + o * ld + c0;                                                 \
                V m = _mm512_maskz_loadu_##SFX(mk, x[0] + o * s * ld + c0);                    \
                IV t = ILOAD(0);                                                               \
                int32_t tt = 0;                                                                \
                for (size_t rr = 0; rr < kh; rr++)                                             \
                    for (size_t q = 0; q < kw; q++, tt++) {                                    \
                        if (tt == 0) continue;                                                 \
                        V v = _mm512_maskz_loadu_##SFX(mk, x[rr] + (o * s + q) * ld + c0);     \
                        M k = _mm512_cmp_##SFX##_mask(v, m, _CMP_GT_OQ) |                      \
                              _mm512_cmp_##SFX##_mask(v, v, _CMP_UNORD_Q);                     \
                        m = _mm512_mask_blend_##SFX(k, m, v);                                  \
                        t = ISFX##_mask_mov_epi32(t, k, ILOAD(tt));                            \
                    }                                                                          \
                const V gv = _mm512_maskz_loadu_##SFX(mk, gp);                                 \
                tt = 0;                                                                        \
                for (size_t rr = 0; rr < kh; rr++) {                                           \
                    for (size_t q = 0; q < kw; q++, tt++) {                                    \
                        M e = ISFX##_cmpeq_epi32_mask(t, ILOAD(tt));                           \
                        fc_put_##SFX(gx[rr] + (o * s + q) * ld + c0, mk,                       \
                                     _mm512_maskz_mov_##SFX(e, gv), nt);                       \
                    }                                                                          \
                    for (size_t q = kw; q < kw + gap; q++)                                     \
                        fc_put_##SFX(gx[rr] + (o * s + q) * ld + c0, mk,                       \
                                     _mm512_setzero_##SFX(), nt);                              \
                }                                                                              \
            }                                                                                  \
        }                                                                                      \
    }                                                                                           \
    /* 2x2/2, the common case, with constant loops (fully unrolled) */                          \
    static void NAME(size_t n, size_t c, size_t ld, size_t s, size_t kw, size_t kh,             \
                     const T *const *x, const T *g, T *const *gx, int nt) {                     \
        if (s == 2 && kw == 2 && kh == 2)                                                       \
            NAME##_body(n, c, ld, 2, 2, 2, x, g, gx, nt);                                       \
        else                                                                                    \
            NAME##_body(n, c, ld, s, kw, kh, x, g, gx, nt);                                     \
    }
/* bits [lo, hi) (0 <= lo, hi <= 63); bits j < n with 0 <= c + j < w: the lanes of a load
 * at input column c */
static inline uint64_t fc_lanebits(int64_t lo, int64_t hi) {
    return hi > lo ? (((uint64_t)1 << hi) - 1) & ~(((uint64_t)1 << lo) - 1) : 0;
}
static inline uint64_t fc_colbits(int64_t c, int64_t w, int64_t n) {
    return fc_lanebits(c >= 0 ? 0 : fc_min64(-c, n), fc_min64(n, w - c));
}
/* 3x3/2 NCHW gradient of one plane (contract in pool-ukernels.h), L outputs a step.
 * Lane o of a step owns padded columns 2o (kw = 0 of output o, kw = 2 of o - 1) and
 * 2o + 1 (kw = 1 of o); the kw = 2 share reaches lane o + 1 by a one-lane shift carried
 * across steps. Window row kh of output row oh is input row 2oh - PT + kh: kh = 1 is
 * final at once, kh = 2 waits in `buf` (phase-split) for row oh + 1's kh = 0, so every
 * value of gx is stored once, no zeroing pass, sums in the indices path's order. The
 * argmax keeps its tap (3kh + kw) in an int vector; steps with every tap inside the
 * input and no NaN (a NaN makes the step's sum NaN) compare with GT alone; edge steps
 * mask each tap to the lanes whose column lies inside the input. The helpers are
 * forced inline so that full windows (rows 0..2) unroll with every vector in a register. */
#define FC_3X3S2(NAME, T, V, M, L, SFX, IV, IX, ALIGN, SETI, ILV, CAST, UNCAST)                 \
    /* tap (3kh + kw) of the argmax of the L windows at input column c0 of rows [a, b) of   \
     * p (row stride w); lanes past nv outputs are undefined (their g is 0) */             \
    FC_INLINE IV NAME##_arg(const T *p, int64_t w, int64_t a, int64_t b, int64_t c0,         \
                            int64_t nv) {                                                      \
        const IV ev = SETI, od = _mm512_add_##IX(ev, _mm512_set1_##IX(1));                      \
        const uint64_t cv = fc_colbits(c0, w, 2 * L + 2);                                      \
        const M mA = (M)cv, mB = (M)(cv >> L), mC = (M)(cv >> 2);                              \
        const M mD = (M)((cv >> (L + 2)) & (((uint64_t)1 << (L - 1)) - 1));                    \
        const V ninf = _mm512_set1_##SFX(-(T)INFINITY);                                        \
        V v[9], s = _mm512_setzero_##SFX();                                                    \
        for (int64_t kh = a; kh < b; kh++) {                                                   \
            const T *r = p + kh * w + c0;                                                      \
            V A = _mm512_maskz_loadu_##SFX(mA, r), B = _mm512_maskz_loadu_##SFX(mB, r + L);    \
            V C = _mm512_mask_loadu_##SFX(ninf, mC, r + 2);                                    \
            V D = _mm512_maskz_loadu_##SFX(mD, r + 2 + L);                                     \
            s = _mm512_add_##SFX(s, _mm512_add_##SFX(_mm512_add_##SFX(A, B), D));              \
            A = _mm512_mask_blend_##SFX(mA, ninf, A);                                          \
            B = _mm512_mask_blend_##SFX(mB, ninf, B);                                          \
            D = _mm512_mask_blend_##SFX(mD, ninf, D);                                          \
            v[3 * kh] = _mm512_permutex2var_##SFX(A, ev, B);                                   \
            v[3 * kh + 1] = _mm512_permutex2var_##SFX(A, od, B);                               \
            v[3 * kh + 2] = _mm512_permutex2var_##SFX(C, ev, D);                               \
        }                                                                                      \
        const int nan = _mm512_cmp_##SFX##_mask(s, s, _CMP_UNORD_Q) != 0;                      \
        /* every value finite (s - s is NaN only for an inf or NaN s): the columns outside  \
         * the input, -inf, lose to any value inside, which every window has */           \
        const V z = _mm512_sub_##SFX(s, s);                                                    \
        IV t;                                                                                  \
        if (_mm512_cmp_##SFX##_mask(z, z, _CMP_UNORD_Q) == 0) {                                \
            V m = v[3 * a];                                                                    \
            t = _mm512_set1_##IX(3 * a);                                                       \
            for (int64_t q = 3 * a + 1; q < 3 * b; q++) {                                      \
                M k = _mm512_cmp_##SFX##_mask(v[q], m, _CMP_GT_OQ);                            \
                m = _mm512_mask_blend_##SFX(k, m, v[q]);                                       \
                t = _mm512_mask_mov_##IX(t, k, _mm512_set1_##IX(q));                           \
            }                                                                                  \
            return t;                                                                          \
        }                                                                                      \
        M vm[3], seen = 0; /* edge or NaN: PyTorch's rule over the taps inside the input */   \
        for (int q = 0; q < 3; q++) { /* lanes j: 0 <= c0 + 2j + q < w */                      \
            const int64_t lo = -c0 - q, hi = w - 1 - c0 - q;                                   \
            vm[q] = (M)fc_lanebits(lo <= 0 ? 0 : (lo + 1) / 2,                                 \
                                   hi < 0 ? 0 : fc_min64(nv, hi / 2 + 1));                     \
        }                                                                                      \
        V m = _mm512_setzero_##SFX();                                                          \
        t = _mm512_set1_##IX(-1);                                                              \
        for (int64_t q = 3 * a; q < 3 * b; q++) {                                              \
            const M vq = vm[q % 3];                                                            \
            M k = _mm512_mask_cmp_##SFX##_mask(vq, v[q], m, _CMP_GT_OQ) | (M)(vq & ~seen);     \
            if (nan) k |= _mm512_mask_cmp_##SFX##_mask(vq, v[q], v[q], _CMP_UNORD_Q);          \
            seen |= vq;                                                                        \
            m = _mm512_mask_blend_##SFX(k, m, v[q]);                                           \
            t = _mm512_mask_mov_##IX(t, k, _mm512_set1_##IX(q));                               \
        }                                                                                      \
        return t;                                                                              \
    }                                                                                          \
    /* window row kh's share of input row d (from its padded column 2o): the lanes of t     \
     * selecting (kh, kw) get g; merge: add the phase-split partial row of buf first;       \
     * keep: store to buf instead of d (sv: the columns of d inside the input) */           \
    FC_INLINE void NAME##_emit(int kh, IV t, V gv, V *carry, T *d, uint64_t sv, T *be, T *bo,  \
                               int merge, int keep) {                                          \
        const IV il = ILV, ih = _mm512_add_##IX(il, _mm512_set1_##IX(L / 2));                  \
        V e0 = _mm512_maskz_mov_##SFX(_mm512_cmpeq_##IX##_mask(t, _mm512_set1_##IX(3 * kh)),   \
                                      gv);                                                     \
        V e1 = _mm512_maskz_mov_##SFX(                                                         \
            _mm512_cmpeq_##IX##_mask(t, _mm512_set1_##IX(3 * kh + 1)), gv);                    \
        V e2 = _mm512_maskz_mov_##SFX(                                                         \
            _mm512_cmpeq_##IX##_mask(t, _mm512_set1_##IX(3 * kh + 2)), gv);                    \
        V sh = UNCAST(ALIGN(CAST(e2), CAST(*carry), L - 1));                                   \
        *carry = e2;                                                                           \
        V ve, vo = e1;                                                                         \
        if (merge) {                                                                           \
            ve = _mm512_add_##SFX(_mm512_add_##SFX(_mm512_loadu_##SFX(be), sh), e0);           \
            vo = _mm512_add_##SFX(_mm512_loadu_##SFX(bo), e1);                                 \
        } else {                                                                               \
            ve = _mm512_add_##SFX(sh, e0);                                                     \
        }                                                                                      \
        if (keep) {                                                                            \
            _mm512_storeu_##SFX(be, ve);                                                       \
            _mm512_storeu_##SFX(bo, vo);                                                       \
            return;                                                                            \
        }                                                                                      \
        _mm512_mask_storeu_##SFX(d, (M)sv, _mm512_permutex2var_##SFX(ve, il, vo));             \
        _mm512_mask_storeu_##SFX(d + L, (M)(sv >> L), _mm512_permutex2var_##SFX(ve, ih, vo));  \
    }                                                                                          \
    static void NAME(size_t H, size_t W, size_t OH, size_t OW, size_t PT, size_t PL,           \
                     const T *x, const T *g, T *gx, T *buf, int nt) {                          \
        const int64_t w = (int64_t)W, h = (int64_t)H, pl = (int64_t)PL;                        \
        /* lanes: padded columns [0, 2 nl) cover the input and every window's taps */         \
        const int64_t nl = fc_max64((int64_t)OW + 1, (pl + w + 1) / 2), nb = fc_cdiv(nl, L) * L; \
        T *const be = buf, *const bo = buf + nb;                                               \
        /* nt: final rows go to scratch rows of padded columns, then stream to gx whole */    \
        T *const sr = bo + nb;                                                                 \
        for (size_t oh = 0; oh < OH; oh++) {                                                   \
            const int64_t r0 = 2 * (int64_t)oh - (int64_t)PT;                                  \
            const int64_t a = r0 < 0 ? fc_min64(-r0, 3) : 0;                                   \
            const int64_t b = fc_max64(a, fc_min64(3, h - r0));                                \
            const int merge = oh > 0, keep = oh + 1 < OH;                                      \
            const T *gr = g + oh * OW, *xr = x + r0 * w;                                       \
            T *d = nt ? sr + pl : gx + r0 * w;                                                 \
            const int64_t dw = nt ? 2 * nb : w; /* row stride of d */                          \
            V c[3] = {_mm512_setzero_##SFX(), _mm512_setzero_##SFX(), _mm512_setzero_##SFX()}; \
            for (int64_t o = 0; o < nl; o += L) {                                              \
                const int64_t nv = fc_max64(0, fc_min64(L, (int64_t)OW - o)); /* outputs */    \
                const int64_t c0 = 2 * o - pl; /* input column of padded column 2o */          \
                IV t = _mm512_set1_##IX(-1);                                                   \
                if (a == 0 && b == 3 && nv > 0)                                                \
                    t = NAME##_arg(xr, w, 0, 3, c0, nv);                                       \
                else if (a < b && nv > 0)                                                      \
                    t = NAME##_arg(xr, w, a, b, c0, nv);                                       \
                const V gv = _mm512_maskz_loadu_##SFX((M)((1ull << nv) - 1), gr + o);          \
                const uint64_t sv = nt ? ~(uint64_t)0 : fc_colbits(c0, w, 2 * L);              \
                if (a == 0 && b == 3) {                                                        \
                    NAME##_emit(0, t, gv, &c[0], d + c0, sv, be + o, bo + o, merge, 0);        \
                    NAME##_emit(1, t, gv, &c[1], d + dw + c0, sv, be + o, bo + o, 0, 0);       \
                    NAME##_emit(2, t, gv, &c[2], d + 2 * dw + c0, sv, be + o, bo + o, 0, keep); \
                    continue;                                                                  \
                }                                                                              \
                if (a <= 0 && 0 < b)                                                           \
                    NAME##_emit(0, t, gv, &c[0], d + c0, sv, be + o, bo + o, merge, 0);        \
                if (a <= 1 && 1 < b)                                                           \
                    NAME##_emit(1, t, gv, &c[1], d + dw + c0, sv, be + o, bo + o, 0, 0);       \
                if (a <= 2 && 2 < b)                                                           \
                    NAME##_emit(2, t, gv, &c[2], d + 2 * dw + c0, sv, be + o, bo + o, 0, keep); \
            }                                                                                  \
            for (int64_t kh = a; nt && kh < b && kh < (keep ? 2 : 3); kh++)                    \
                fc_stream_##SFX(gx + (r0 + kh) * w, d + kh * dw, w);                            \
        }                                                                                      \
        /* rows below the last window get nothing */                                           \
        const int64_t done = fc_max64(0, fc_min64(h, 2 * (int64_t)OH - (int64_t)PT + 1));      \
        if (done < h) memset(gx + done * w, 0, (size_t)((h - done) * w) * sizeof(T));          \
    }
/* 3x3/2 NCHW max of one output row, no indices (contract in pool-ukernels.h), L outputs
 * a step: the window rows' vertical max of input columns [c0, c0 + 2L + 1), then the
 * even, odd and even + 2 columns by two-source permutes. maxps drops a NaN operand, so
 * the loads are also summed: a row with a NaN (or an inf - inf) returns 0 and takes the
 * separable passes, which keep PyTorch's rule; columns outside the input load as -inf. */
#define FC_MAXF3S2(NAME, T, V, M, L, SFX, IX, SETI)                                            \
    static int NAME(size_t W, size_t OW, size_t PL, const T *const *rows, T *y) {              \
        const int64_t w = (int64_t)W, pl = (int64_t)PL;                                        \
        const __m512i ev = SETI, od = _mm512_add_##IX(ev, _mm512_set1_##IX(1));                \
        const V ninf = _mm512_set1_##SFX(-(T)INFINITY);                                        \
        V u = _mm512_setzero_##SFX();                                                          \
        for (int64_t o = 0; o < (int64_t)OW; o += L) {                                         \
            const int64_t nv = fc_min64(L, (int64_t)OW - o), c0 = 2 * o - pl;                  \
            const uint64_t cv = fc_colbits(c0, w, 2 * L + 2);                                  \
            const M mA = (M)cv, mB = (M)(cv >> L), mC = (M)(cv >> 2);                          \
            const M mD = (M)((cv >> (L + 2)) & (((uint64_t)1 << (L - 1)) - 1));                \
            V A = ninf, B = ninf, C = ninf, D = ninf;                                          \
            for (int r = 0; r < 3; r++) {                                                      \
                if (rows[r] == NULL) continue;                                                 \
                const T *p = rows[r] + c0;                                                     \
                const V a = _mm512_maskz_loadu_##SFX(mA, p);                                   \
                const V b = _mm512_maskz_loadu_##SFX(mB, p + L);                               \
                const V c = _mm512_maskz_loadu_##SFX(mC, p + 2);                               \
                const V d = _mm512_maskz_loadu_##SFX(mD, p + 2 + L);                           \
                u = _mm512_add_##SFX(u, _mm512_add_##SFX(_mm512_add_##SFX(a, b),              \
                                                         _mm512_add_##SFX(c, d)));             \
                A = _mm512_mask_max_##SFX(A, mA, a, A);                                        \
                B = _mm512_mask_max_##SFX(B, mB, b, B);                                        \
                C = _mm512_mask_max_##SFX(C, mC, c, C);                                        \
                D = _mm512_mask_max_##SFX(D, mD, d, D);                                        \
            }                                                                                  \
            V m = _mm512_max_##SFX(_mm512_permutex2var_##SFX(A, ev, B),                        \
                                   _mm512_permutex2var_##SFX(A, od, B));                       \
            m = _mm512_max_##SFX(m, _mm512_permutex2var_##SFX(C, ev, D));                      \
            _mm512_mask_storeu_##SFX(y + o, (M)(((uint64_t)1 << nv) - 1), m);                  \
        }                                                                                      \
        return _mm512_cmp_##SFX##_mask(u, u, _CMP_UNORD_Q) == 0;                               \
    }
FC_MAXF3S2(maxfwd_3x3s2_f32, float, __m512, __mmask16, 16, ps, epi32,
           _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30))
FC_MAXF3S2(maxfwd_3x3s2_f64, double, __m512d, __mmask8, 8, pd, epi64,
           _mm512_setr_epi64(0, 2, 4, 6, 8, 10, 12, 14))
#undef FC_MAXF3S2
#define FC_CPS(v) _mm512_castps_si512(v)
#define FC_UCPS(v) _mm512_castsi512_ps(v)
#define FC_CPD(v) _mm512_castpd_si512(v)
#define FC_UCPD(v) _mm512_castsi512_pd(v)
FC_3X3S2(maxbwd_3x3s2_f32, float, __m512, __mmask16, 16, ps, __m512i, epi32, _mm512_alignr_epi32,
         _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30),
         _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23), FC_CPS, FC_UCPS)
FC_3X3S2(maxbwd_3x3s2_f64, double, __m512d, __mmask8, 8, pd, __m512i, epi64, _mm512_alignr_epi64,
         _mm512_setr_epi64(0, 2, 4, 6, 8, 10, 12, 14), _mm512_setr_epi64(0, 8, 1, 9, 2, 10, 3, 11),
         FC_CPD, FC_UCPD)
#undef FC_CPS
#undef FC_UCPS
#undef FC_CPD
#undef FC_UCPD
#undef FC_3X3S2
/* 3x3/2 NHWC gradient of one image's channel block (contract in pool-ukernels.h):
 * channel vectors, the last masked, the argmax tap in an int vector. Output row oh
 * writes its window rows (input rows 2oh - PT + kh) in place: rows first met are
 * stored, the row shared with output row oh - 1 (kh = 0) is added to; within a row,
 * column 2ow - PL (kw = 0) is added to the kw = 2 share of output ow - 1 stored just
 * before. So each value is the sum of its windows' shares in output order, from 0. */
#define FC_3X3S2_NHWC(NAME, T, V, M, L, SFX, IV, ISFX, ILOAD)                                 \
    static void NAME(size_t H, size_t W, size_t OH, size_t OW, size_t PT, size_t PL,           \
                     size_t cn, size_t ld, const T *x, const T *g, T *gx) {                    \
        const int64_t h = (int64_t)H, w = (int64_t)W, rs = w * (int64_t)ld;                    \
        const int64_t cend = fc_max64(0, fc_min64(w, 2 * (int64_t)OW - (int64_t)PL + 1));      \
        for (size_t oh = 0; oh < OH; oh++) {                                                   \
            const int64_t r0 = 2 * (int64_t)oh - (int64_t)PT;                                  \
            const int64_t a = r0 < 0 ? fc_min64(-r0, 3) : 0;                                   \
            const int64_t b = fc_max64(a, fc_min64(3, h - r0));                                \
            for (size_t ow = 0; ow < OW; ow++) {                                               \
                const int64_t q0 = 2 * (int64_t)ow - (int64_t)PL;                              \
                const int64_t ka = q0 < 0 ? fc_min64(-q0, 3) : 0;                              \
                const int64_t kb = fc_max64(ka, fc_min64(3, w - q0));                          \
                const T *gp = g + (oh * OW + ow) * ld;                                         \
                for (size_t c0 = 0; c0 < cn; c0 += L) {                                        \
                    const size_t r = cn - c0 < L ? cn - c0 : L;                                \
                    const M mk = (M)((1u << r) - 1);                                           \
                    IV t = ILOAD(-1);                                                          \
                    if (ka < kb && a < b) {                                                    \
                        const T *xp = x + r0 * rs + q0 * (int64_t)ld + (int64_t)c0;            \
                        V m = _mm512_maskz_loadu_##SFX(mk, xp + a * rs + ka * (int64_t)ld);    \
                        t = ILOAD((int)(3 * a + ka));                                          \
                        for (int64_t kh = a; kh < b; kh++)                                     \
                            for (int64_t kw = kh == a ? ka + 1 : ka; kw < kb; kw++) {          \
                                V v = _mm512_maskz_loadu_##SFX(mk, xp + kh * rs + kw * (int64_t)ld); \
                                M k = _mm512_cmp_##SFX##_mask(v, m, _CMP_GT_OQ) |              \
                                      _mm512_cmp_##SFX##_mask(v, v, _CMP_UNORD_Q);             \
                                m = _mm512_mask_blend_##SFX(k, m, v);                          \
                                t = ISFX##_mask_mov_epi32(t, k, ILOAD((int)(3 * kh + kw)));    \
                            }                                                                  \
                    }                                                                          \
                    const V gv = _mm512_maskz_loadu_##SFX(mk, gp + c0);                        \
                    for (int64_t kh = a; kh < b; kh++) {                                       \
                        T *d = gx + (r0 + kh) * rs + (int64_t)c0;                              \
                        const int fresh = kh > 0 || oh == 0;                                   \
                        for (int64_t kw = ka; kw < kb; kw++) {                                 \
                            T *p = d + (q0 + kw) * (int64_t)ld;                                \
                            V e = _mm512_maskz_mov_##SFX(                                      \
                                ISFX##_cmpeq_epi32_mask(t, ILOAD((int)(3 * kh + kw))), gv);    \
                            if (!fresh || (kw == 0 && ow > 0))                                 \
                                e = _mm512_add_##SFX(_mm512_maskz_loadu_##SFX(mk, p), e);      \
                            _mm512_mask_storeu_##SFX(p, mk, e);                                \
                        }                                                                      \
                    }                                                                          \
                }                                                                              \
            }                                                                                  \
            for (int64_t kh = fc_max64(a, oh == 0 ? 0 : 1); kh < b; kh++) /* columns past */   \
                fc_zero_px(gx + (r0 + kh) * rs + cend * (int64_t)ld, w - cend, cn * sizeof(T), ld * sizeof(T)); \
        }                                                                                      \
        const int64_t done = fc_max64(0, fc_min64(h, 2 * (int64_t)OH - (int64_t)PT + 1));      \
        fc_zero_px(gx + done * rs, (h - done) * w, cn * sizeof(T), ld * sizeof(T));                             \
    }
FC_3X3S2_NHWC(maxbwd_3x3s2_nhwc_f32, float, __m512, __mmask16, 16, ps, __m512i, _mm512,
              _mm512_set1_epi32)
FC_3X3S2_NHWC(maxbwd_3x3s2_nhwc_f64, double, __m512d, __mmask8, 8, pd, __m256i, _mm256,
              _mm256_set1_epi32)
#undef FC_3X3S2_NHWC
/* maxbwd_taps (contract in pool-ukernels.h): channel vectors, the last masked; only the
 * selected lanes of each tap are read back and stored. */
#define FC_TAPS(NAME, T, V, M, L, SFX, IV, ISFX, ILOAD)                                         \
    static void NAME(size_t c, size_t nr, const T *const *x, T *const *gx, const T *g) {        \
        for (size_t c0 = 0; c0 < c; c0 += L) {                                                  \
            const size_t r = c - c0 < L ? c - c0 : L;                                           \
            const M mk = (M)((1u << r) - 1);                                                    \
            V m = _mm512_maskz_loadu_##SFX(mk, x[0] + c0);                                      \
            IV t = ILOAD(0);                                                                    \
            for (size_t q = 1; q < nr; q++) {                                                   \
                V v = _mm512_maskz_loadu_##SFX(mk, x[q] + c0);                                  \
                M k = _mm512_cmp_##SFX##_mask(v, m, _CMP_GT_OQ) |                               \
                      _mm512_cmp_##SFX##_mask(v, v, _CMP_UNORD_Q);                              \
                m = _mm512_mask_blend_##SFX(k, m, v);                                           \
                t = ISFX##_mask_mov_epi32(t, k, ILOAD((int)q));                                 \
            }                                                                                   \
            const V gv = _mm512_maskz_loadu_##SFX(mk, g + c0);                                  \
            for (size_t q = 0; q < nr; q++) {                                                   \
                M e = (M)(ISFX##_cmpeq_epi32_mask(t, ILOAD((int)q)) & mk);                      \
                if (!e) continue;                                                               \
                V d = _mm512_maskz_loadu_##SFX(e, gx[q] + c0);                                  \
                _mm512_mask_storeu_##SFX(gx[q] + c0, e, _mm512_add_##SFX(d, gv));               \
            }                                                                                   \
        }                                                                                       \
    }
FC_TAPS(maxbwd_taps_f32, float, __m512, __mmask16, 16, ps, __m512i, _mm512, _mm512_set1_epi32)
FC_TAPS(maxbwd_taps_f64, double, __m512d, __mmask8, 8, pd, __m256i, _mm256, _mm256_set1_epi32)
#undef FC_TAPS
/* vmaxarg in masked vectors: the value and its tap stay in registers across the rows
 * (the plain loop's scalar remainder branches on random data, costly for few channels) */
#define FC_VMAXARG(NAME, T, V, M, L, SFX, IV, ISFX, ILOAD)                                      \
    static void NAME(size_t n, size_t nr, const T *const *x, T *y, int32_t *arg, int32_t t0,    \
                     int acc) {                                                                 \
        for (size_t c0 = 0; c0 < n; c0 += L) {                                                  \
            const size_t r = n - c0 < L ? n - c0 : L;                                           \
            const M mk = (M)((1u << r) - 1);                                                    \
            size_t q = 0;                                                                       \
            V m;                                                                                \
            IV t;                                                                               \
            if (acc) {                                                                          \
                m = _mm512_maskz_loadu_##SFX(mk, y + c0);                                       \
                t = ISFX##_maskz_loadu_epi32(mk, arg + c0);                                     \
            } else {                                                                            \
                m = _mm512_maskz_loadu_##SFX(mk, x[0] + c0);                                    \
                t = ILOAD(t0);                                                                  \
                q = 1;                                                                          \
            }                                                                                   \
            for (; q < nr; q++) {                                                               \
                V v = _mm512_maskz_loadu_##SFX(mk, x[q] + c0);                                  \
                M k = _mm512_cmp_##SFX##_mask(v, m, _CMP_GT_OQ) |                               \
                      _mm512_cmp_##SFX##_mask(v, v, _CMP_UNORD_Q);                              \
                m = _mm512_mask_blend_##SFX(k, m, v);                                           \
                t = ISFX##_mask_mov_epi32(t, k, ILOAD(t0 + (int32_t)q));                        \
            }                                                                                   \
            _mm512_mask_storeu_##SFX(y + c0, mk, m);                                            \
            ISFX##_mask_storeu_epi32(arg + c0, mk, t);                                          \
        }                                                                                       \
    }
FC_VMAXARG(vmaxarg_f32, float, __m512, __mmask16, 16, ps, __m512i, _mm512, _mm512_set1_epi32)
FC_VMAXARG(vmaxarg_f64, double, __m512d, __mmask8, 8, pd, __m256i, _mm256, _mm256_set1_epi32)
#undef FC_VMAXARG
/* vmax / vsum in masked vectors, the running result in a register across the rows (the
 * plain loops' scalar remainder dominates for few channels, as in NHWC LeNet) */
#define FC_VRED_STEP(V, M, SFX, IS_MAX, m, v)                                                         \
    do {                                                                                        \
        if (IS_MAX) {                                                                           \
            const V v_ = (v);                                                                   \
            const M k_ = _mm512_cmp_##SFX##_mask(v_, m, _CMP_GT_OQ) |                           \
                         _mm512_cmp_##SFX##_mask(v_, v_, _CMP_UNORD_Q);                         \
            m = _mm512_mask_blend_##SFX(k_, m, v_);                                             \
        } else {                                                                                \
            m = _mm512_add_##SFX(m, (v));                                                       \
        }                                                                                       \
    } while (0)
/* Four full vectors a step (independent chains: one add's latency no longer paces the
 * rows), then single vectors, the last masked. Per value the same order as vmax / vsum. */
#define FC_VRED(NAME, T, V, M, L, SFX, IS_MAX)                                                  \
    static void NAME(size_t n, size_t nr, const T *const *x, T *y, int acc) {                   \
        size_t c0 = 0;                                                                          \
        for (; c0 + 4 * L <= n && (acc || nr > 0); c0 += 4 * L) {                               \
            size_t q = 0;                                                                       \
            const T *s0 = acc ? y + c0 : x[0] + c0;                                             \
            V m0 = _mm512_loadu_##SFX(s0), m1 = _mm512_loadu_##SFX(s0 + L);                     \
            V m2 = _mm512_loadu_##SFX(s0 + 2 * L), m3 = _mm512_loadu_##SFX(s0 + 3 * L);         \
            if (!acc) q = 1;                                                                    \
            for (; q < nr; q++) {                                                               \
                const T *p = x[q] + c0;                                                         \
                FC_VRED_STEP(V, M, SFX, IS_MAX, m0, _mm512_loadu_##SFX(p));                           \
                FC_VRED_STEP(V, M, SFX, IS_MAX, m1, _mm512_loadu_##SFX(p + L));                       \
                FC_VRED_STEP(V, M, SFX, IS_MAX, m2, _mm512_loadu_##SFX(p + 2 * L));                   \
                FC_VRED_STEP(V, M, SFX, IS_MAX, m3, _mm512_loadu_##SFX(p + 3 * L));                   \
            }                                                                                   \
            _mm512_storeu_##SFX(y + c0, m0);                                                    \
            _mm512_storeu_##SFX(y + c0 + L, m1);                                                \
            _mm512_storeu_##SFX(y + c0 + 2 * L, m2);                                            \
            _mm512_storeu_##SFX(y + c0 + 3 * L, m3);                                            \
        }                                                                                       \
        for (; c0 < n; c0 += L) {                                                               \
            const size_t r = n - c0 < L ? n - c0 : L;                                           \
            const M mk = (M)((1u << r) - 1);                                                    \
            size_t q = 0;                                                                       \
            V m;                                                                                \
            if (acc) {                                                                          \
                m = _mm512_maskz_loadu_##SFX(mk, y + c0);                                       \
            } else if (nr == 0) {                                                               \
                m = _mm512_setzero_##SFX();                                                     \
            } else {                                                                            \
                m = _mm512_maskz_loadu_##SFX(mk, x[0] + c0);                                    \
                q = 1;                                                                          \
            }                                                                                   \
            for (; q < nr; q++) FC_VRED_STEP(V, M, SFX, IS_MAX, m, _mm512_maskz_loadu_##SFX(mk, x[q] + c0)); \
            _mm512_mask_storeu_##SFX(y + c0, mk, m);                                            \
        }                                                                                       \
    }
/* MAC(NAME_f32 / NAME_f64, element type, vector, mask, lanes, suffix, ARG) */
#define FC_BOTH(MAC, NAME, ARG)                                                                 \
    MAC(NAME##_f32, float, __m512, __mmask16, 16, ps, ARG)                                      \
    MAC(NAME##_f64, double, __m512d, __mmask8, 8, pd, ARG)
FC_BOTH(FC_VRED, vmax, 1)
FC_BOTH(FC_VRED, vsum, 0)
#undef FC_VRED
#undef FC_VRED_STEP
/* global sum / max of contiguous planes: two vector chains, a masked tail, one horizontal
 * reduction a plane (small planes such as 7x7 were paced by the scalar tail and fold) */
#define FC_GRED(NAME, T, V, M, L, SFX, IS_MAX)                                                  \
    static void NAME(size_t planes, size_t hw, const T *x, T s, T *y) {                         \
        const V id = IS_MAX ? _mm512_set1_##SFX(-(T)INFINITY) : _mm512_setzero_##SFX();        \
        for (size_t p = 0; p < planes; p++) {                                                   \
            const T *xp = x + p * hw;                                                           \
            V a0 = id, a1 = id;                                                                 \
            M nan = 0;                                                                          \
            size_t i = 0;                                                                       \
            for (; i + 2 * L <= hw; i += 2 * L) {                                               \
                const V u = _mm512_loadu_##SFX(xp + i), v = _mm512_loadu_##SFX(xp + i + L);    \
                if (IS_MAX) {                                                                   \
                    nan |= _mm512_cmp_##SFX##_mask(u, v, _CMP_UNORD_Q);                         \
                    a0 = _mm512_max_##SFX(a0, u);                                               \
                    a1 = _mm512_max_##SFX(a1, v);                                               \
                } else {                                                                        \
                    a0 = _mm512_add_##SFX(a0, u);                                               \
                    a1 = _mm512_add_##SFX(a1, v);                                               \
                }                                                                               \
            }                                                                                   \
            for (; i < hw; i += L) {                                                            \
                const size_t r = hw - i < L ? hw - i : L;                                       \
                const V u = _mm512_mask_loadu_##SFX(id, (M)((1u << r) - 1), xp + i);           \
                if (IS_MAX) {                                                                   \
                    nan |= _mm512_cmp_##SFX##_mask(u, u, _CMP_UNORD_Q);                         \
                    a0 = _mm512_max_##SFX(a0, u);                                               \
                } else {                                                                        \
                    a0 = _mm512_add_##SFX(a0, u);                                               \
                }                                                                               \
            }                                                                                   \
            if (IS_MAX)                                                                         \
                y[p] = nan ? (T)NAN : _mm512_reduce_max_##SFX(_mm512_max_##SFX(a0, a1));        \
            else                                                                                \
                y[p] = _mm512_reduce_add_##SFX(_mm512_add_##SFX(a0, a1)) * s;                   \
        }                                                                                       \
    }
FC_BOTH(FC_GRED, gsum, 0)
FC_BOTH(FC_GRED, gmax, 1)
#undef FC_GRED
/* gfill: full vectors, the plane's tail masked */
#define FC_GFILL(NAME, T, V, M, L, SFX, UNUSED)                                                 \
    static void NAME(size_t planes, size_t hw, const T *g, T s, T *y) {                         \
        for (size_t p = 0; p < planes; p++) {                                                   \
            const V v = _mm512_set1_##SFX(g[p] * s);                                            \
            T *yp = y + p * hw;                                                                 \
            size_t i = 0;                                                                       \
            for (; i + L <= hw; i += L) _mm512_storeu_##SFX(yp + i, v);                         \
            if (i < hw) _mm512_mask_storeu_##SFX(yp + i, (M)((1u << (hw - i)) - 1), v);         \
        }                                                                                       \
    }
FC_BOTH(FC_GFILL, gfill, 0)
#undef FC_GFILL
#undef FC_BOTH
/* avgbwd_rows (contract in pool-ukernels.h). NCHW (cn = ld = 1): L columns a step; their
 * outputs are at most L consecutive ones from the first column's, so one product of s and
 * g and one permute place them (no gather). NHWC: channel vectors, the last masked. */
#define FC_AVGBWD(NAME, T, V, M, L, SFX, IX, LOADCOL)                                          \
    static int NAME(size_t w, size_t cn, size_t ld, const int32_t *col, T rf, const T *cf,     \
                    const T *g, size_t ow, size_t nr, T *const *d, int nt) {                   \
        const V rv = _mm512_set1_##SFX(rf);                                                    \
        if (cn == 1 && ld == 1) {                                                              \
            for (size_t c0 = 0; c0 < w; c0 += L) {                                             \
                const size_t r = w - c0 < L ? w - c0 : L;                                      \
                const M mk = (M)((1u << r) - 1);                                               \
                const int64_t c = col[c0], base = c >= 0 ? c : -1 - c;                        \
                const int64_t nv = fc_max64(0, fc_min64(L, (int64_t)ow - base));              \
                V v = _mm512_setzero_##SFX();                                                  \
                if (nv > 0) {                                                                  \
                    const M mo = (M)(((uint64_t)1 << nv) - 1);                                 \
                    const __m512i idx = LOADCOL(mk, col + c0);                                 \
                    const M ok = (M)(_mm512_cmpge_##IX##_mask(idx, _mm512_setzero_si512()) & mk); \
                    const V f = cf ? _mm512_mul_##SFX(rv, _mm512_maskz_loadu_##SFX(mo, cf + base)) \
                                   : rv;                                                       \
                    const V p = _mm512_mul_##SFX(f, _mm512_maskz_loadu_##SFX(mo, g + base));   \
                    v = _mm512_maskz_permutexvar_##SFX(                                        \
                        ok, _mm512_sub_##IX(idx, _mm512_set1_##IX(base)), p);                  \
                }                                                                              \
                for (size_t q = 0; q < nr; q++) fc_put_##SFX(d[q] + c0, mk, v, nt);             \
            }                                                                                  \
        } else {                                                                               \
            for (size_t c = 0; c < w; c++) {                                                   \
                const int32_t o = col[c];                                                      \
                const V sv = _mm512_set1_##SFX(o >= 0 ? rf * (cf ? cf[o] : (T)1) : 0);         \
                for (size_t c0 = 0; c0 < cn; c0 += L) {                                        \
                    const size_t r = cn - c0 < L ? cn - c0 : L;                                \
                    const M mk = (M)((1u << r) - 1);                                           \
                    V v = _mm512_setzero_##SFX();                                              \
                    if (o >= 0)                                                                \
                        v = _mm512_mul_##SFX(sv, _mm512_maskz_loadu_##SFX(                     \
                                                     mk, g + (size_t)o * ld + c0));            \
                    for (size_t q = 0; q < nr; q++) fc_put_##SFX(d[q] + c * ld + c0, mk, v, nt);\
                }                                                                              \
            }                                                                                  \
        }                                                                                      \
        return 1;                                                                              \
    }
#define FC_COL32(mk, p) _mm512_maskz_loadu_epi32(mk, p)
#define FC_COL64(mk, p) _mm512_cvtepi32_epi64(_mm256_maskz_loadu_epi32(mk, p))
FC_AVGBWD(avgbwd_rows_f32, float, __m512, __mmask16, 16, ps, epi32, FC_COL32)
FC_AVGBWD(avgbwd_rows_f64, double, __m512d, __mmask8, 8, pd, epi64, FC_COL64)
#undef FC_COL32
#undef FC_COL64
#undef FC_AVGBWD
FC_NHWC_TILED(maxbwd_nhwc_f32, float, __m512, __mmask16, 16, ps, __m512i, _mm512, _mm512_set1_epi32)
FC_NHWC_TILED(maxbwd_nhwc_f64, double, __m512d, __mmask8, 8, pd, __m256i, _mm256, _mm256_set1_epi32)
#undef FC_NHWC_TILED
#endif

FC_NOJAM static void maxbwd_tiled(size_t n, size_t c, size_t ld, size_t s, size_t kw,
                                  size_t kh, const FC_T *const *x, const FC_T *g,
                                  FC_T *const *gx, int nt) {

    if (c == 1 && ld == 1 && s == 2 && kw == 2 && kh == 2) { /* NCHW 2x2/2: one vector loop */
        const FC_T *restrict a = x[0], *restrict b = x[1];
        FC_T *restrict ga = gx[0], *restrict gb = gx[1];
        size_t o = 0;
#if defined(__AVX512F__)
        if (sizeof(FC_T) == 4)
            o = maxbwd_2x2_f32(n, (const float *)a, (const float *)b, (const float *)g,
                               (float *)ga, (float *)gb, nt);
        else
            o = maxbwd_2x2_f64(n, (const double *)a, (const double *)b, (const double *)g,
                               (double *)ga, (double *)gb, nt);
#endif
        for (; o < n; o++) {
            FC_T v0 = a[2 * o], v1 = a[2 * o + 1], v2 = b[2 * o], v3 = b[2 * o + 1];
            FC_T m = v0;
            int32_t t = 0, k;
            k = FC_TAKE(v1, m); m = k ? v1 : m; t = k ? 1 : t;
            k = FC_TAKE(v2, m); m = k ? v2 : m; t = k ? 2 : t;
            k = FC_TAKE(v3, m); t = k ? 3 : t;
            const FC_T gv = g[o], z = 0;
            ga[2 * o] = t == 0 ? gv : z;
            ga[2 * o + 1] = t == 1 ? gv : z;
            gb[2 * o] = t == 2 ? gv : z;
            gb[2 * o + 1] = t == 3 ? gv : z;
        }
        return;
    }
    if (c == 1 && ld == 1) { /* NCHW, any window: scalar per output, no calls */
        for (size_t o = 0; o < n; o++) {
            const size_t c0 = o * s;
            FC_T m = x[0][c0];
            size_t t = 0, tt = 0;
            for (size_t r = 0; r < kh; r++)
                for (size_t q = 0; q < kw; q++, tt++) {
                    FC_T v = x[r][c0 + q];
                    int k = FC_TAKE(v, m);
                    m = k ? v : m;
                    t = k ? tt : t;
                }
            tt = 0;
            for (size_t r = 0; r < kh; r++) {
                FC_T *d = gx[r] + c0;
                for (size_t q = 0; q < kw; q++, tt++) d[q] = tt == t ? g[o] : (FC_T)0;
                if (o + 1 < n)
                    for (size_t q = kw; q < s; q++) d[q] = 0;
            }
        }
        return;
    }
#if defined(__AVX512F__)
    if (sizeof(FC_T) == 4)
        maxbwd_nhwc_f32(n, c, ld, s, kw, kh, (const float *const *)x, (const float *)g,
                        (float *const *)gx, nt);
    else
        maxbwd_nhwc_f64(n, c, ld, s, kw, kh, (const double *const *)x, (const double *)g,
                        (double *const *)gx, nt);
    return;
#endif
    (void)nt;
    /* NHWC: vectors along the channels, a block of at most 64 at a time */
    FC_T m[64];
    int32_t t[64];
    for (size_t o = 0; o < n; o++) {
        for (size_t c0 = 0; c0 < c; c0 += 64) {
            const size_t cn = c - c0 < 64 ? c - c0 : 64;
            const FC_T *restrict gp = g + o * ld + c0;
            int32_t tt = 0;
            for (size_t r = 0; r < kh; r++)
                for (size_t q = 0; q < kw; q++, tt++) {
                    const FC_T *restrict p = x[r] + (o * s + q) * ld + c0;
                    if (tt == 0) {
                        for (size_t i = 0; i < cn; i++) {
                            m[i] = p[i];
                            t[i] = 0;
                        }
                        continue;
                    }
                    for (size_t i = 0; i < cn; i++) {
                        FC_T v = p[i], mm = m[i];
                        int k = FC_TAKE(v, mm);
                        m[i] = k ? v : mm;
                        t[i] = k ? tt : t[i];
                    }
                }
            tt = 0;
            for (size_t r = 0; r < kh; r++) {
                for (size_t q = 0; q < kw; q++, tt++) {
                    FC_T *restrict d = gx[r] + (o * s + q) * ld + c0;
                    for (size_t i = 0; i < cn; i++) d[i] = t[i] == tt ? gp[i] : (FC_T)0;
                }
                if (o + 1 < n)
                    for (size_t q = kw; q < s; q++) {
                        FC_T *restrict d = gx[r] + (o * s + q) * ld + c0;
                        for (size_t i = 0; i < cn; i++) d[i] = 0;
                    }
            }
        }
    }
}
#undef FC_TAKE

static void maxbwd_3x3s2(size_t H, size_t W, size_t OH, size_t OW, size_t PT, size_t PL,
                         const FC_T *x, const FC_T *g, FC_T *gx, FC_T *buf, int nt) {
#if defined(__AVX512F__)
    if (sizeof(FC_T) == 4)
        maxbwd_3x3s2_f32(H, W, OH, OW, PT, PL, (const float *)x, (const float *)g, (float *)gx,
                         (float *)buf, nt);
    else
        maxbwd_3x3s2_f64(H, W, OH, OW, PT, PL, (const double *)x, (const double *)g,
                         (double *)gx, (double *)buf, nt);
    return;
#endif
    (void)buf; (void)nt;
    memset(gx, 0, H * W * sizeof(FC_T));
    for (size_t oh = 0; oh < OH; oh++)
        for (size_t ow = 0; ow < OW; ow++) {
            const int64_t r0 = 2 * (int64_t)oh - (int64_t)PT, c0 = 2 * (int64_t)ow - (int64_t)PL;
            int64_t best = -1;
            FC_T m = 0;
            for (int64_t r = r0; r < r0 + 3; r++)
                for (int64_t c = c0; c < c0 + 3; c++) {
                    if (r < 0 || r >= (int64_t)H || c < 0 || c >= (int64_t)W) continue;
                    const FC_T v = x[r * (int64_t)W + c];
                    if (best < 0 || v > m || v != v) {
                        m = v;
                        best = r * (int64_t)W + c;
                    }
                }
            if (best >= 0) gx[best] += g[oh * OW + ow];
        }
}

static int maxfwd_3x3s2(size_t W, size_t OW, size_t PL, const FC_T *const *rows, FC_T *y) {
#if defined(__AVX512F__)
    if (sizeof(FC_T) == 4)
        return maxfwd_3x3s2_f32(W, OW, PL, (const float *const *)rows, (float *)y);
    return maxfwd_3x3s2_f64(W, OW, PL, (const double *const *)rows, (double *)y);
#endif
    (void)W; (void)OW; (void)PL; (void)rows; (void)y;
    return 0; /* the separable passes are as fast without 512-bit permutes */
}

static void maxbwd_3x3s2_nhwc(size_t H, size_t W, size_t OH, size_t OW, size_t PT, size_t PL,
                              size_t cn, size_t ld, const FC_T *x, const FC_T *g, FC_T *gx) {
#if defined(__AVX512F__)
    if (sizeof(FC_T) == 4)
        maxbwd_3x3s2_nhwc_f32(H, W, OH, OW, PT, PL, cn, ld, (const float *)x, (const float *)g,
                              (float *)gx);
    else
        maxbwd_3x3s2_nhwc_f64(H, W, OH, OW, PT, PL, cn, ld, (const double *)x,
                              (const double *)g, (double *)gx);
    return;
#endif
    /* the same order as the vector version, 64 channels at a time */
    const int64_t h = (int64_t)H, w = (int64_t)W, rs = w * (int64_t)ld, l = (int64_t)ld;
    const int64_t cend = fc_max64(0, fc_min64(w, 2 * (int64_t)OW - (int64_t)PL + 1));
    FC_T m[64];
    int32_t t[64];
    for (size_t oh = 0; oh < OH; oh++) {
        const int64_t r0 = 2 * (int64_t)oh - (int64_t)PT;
        const int64_t a = r0 < 0 ? fc_min64(-r0, 3) : 0, b = fc_max64(a, fc_min64(3, h - r0));
        for (size_t ow = 0; ow < OW; ow++) {
            const int64_t q0 = 2 * (int64_t)ow - (int64_t)PL;
            const int64_t ka = q0 < 0 ? fc_min64(-q0, 3) : 0;
            const int64_t kb = fc_max64(ka, fc_min64(3, w - q0));
            if (ka >= kb || a >= b) continue;
            for (size_t c0 = 0; c0 < cn; c0 += 64) {
                const size_t n = cn - c0 < 64 ? cn - c0 : 64;
                const FC_T *xp = x + r0 * rs + q0 * l + (int64_t)c0;
                const FC_T *restrict gp = g + (oh * OW + ow) * ld + c0;
                for (int64_t kh = a; kh < b; kh++)
                    for (int64_t kw = ka; kw < kb; kw++) {
                        const FC_T *restrict p = xp + kh * rs + kw * l;
                        const int32_t tap = (int32_t)(3 * kh + kw);
                        if (kh == a && kw == ka) {
                            for (size_t i = 0; i < n; i++) {
                                m[i] = p[i];
                                t[i] = tap;
                            }
                            continue;
                        }
                        for (size_t i = 0; i < n; i++) {
                            FC_T v = p[i], mm = m[i];
                            int k = (v > mm) | (v != v);
                            m[i] = k ? v : mm;
                            t[i] = k ? tap : t[i];
                        }
                    }
                for (int64_t kh = a; kh < b; kh++) {
                    const int fresh = kh > 0 || oh == 0;
                    for (int64_t kw = ka; kw < kb; kw++) {
                        FC_T *restrict p = gx + (r0 + kh) * rs + (q0 + kw) * l + (int64_t)c0;
                        const int32_t tap = (int32_t)(3 * kh + kw);
                        if (!fresh || (kw == 0 && ow > 0))
                            for (size_t i = 0; i < n; i++) p[i] += t[i] == tap ? gp[i] : (FC_T)0;
                        else
                            for (size_t i = 0; i < n; i++) p[i] = t[i] == tap ? gp[i] : (FC_T)0;
                    }
                }
            }
        }
        for (int64_t kh = fc_max64(a, oh == 0 ? 0 : 1); kh < b; kh++)
            fc_zero_px(gx + (r0 + kh) * rs + cend * l, w - cend, cn * sizeof(FC_T),
                       ld * sizeof(FC_T));
    }
    const int64_t done = fc_max64(0, fc_min64(h, 2 * (int64_t)OH - (int64_t)PT + 1));
    fc_zero_px(gx + done * rs, (h - done) * w, cn * sizeof(FC_T), ld * sizeof(FC_T));
}

static void maxbwd_taps(size_t c, size_t nr, const FC_T *const *x, FC_T *const *gx,
                        const FC_T *g) {
#if defined(__AVX512F__)
    if (sizeof(FC_T) == 4)
        maxbwd_taps_f32(c, nr, (const float *const *)x, (float *const *)gx, (const float *)g);
    else
        maxbwd_taps_f64(c, nr, (const double *const *)x, (double *const *)gx,
                        (const double *)g);
    return;
#endif
    FC_T m[64];
    int32_t t[64];
    for (size_t c0 = 0; c0 < c; c0 += 64) {
        const size_t cn = c - c0 < 64 ? c - c0 : 64;
        const FC_T *xr[FC_POOL_MAX_ROWS];
        for (size_t q = 0; q < nr; q++) xr[q] = x[q] + c0;
        vmaxarg(cn, nr, xr, m, t, 0, 0);
        for (size_t q = 0; q < nr; q++) {
            FC_T *restrict d = gx[q] + c0;
            const FC_T *restrict gp = g + c0;
            for (size_t i = 0; i < cn; i++) d[i] += (t[i] == (int32_t)q) ? gp[i] : (FC_T)0;
        }
    }
}

static void vmaxarg_any(size_t n, size_t nr, const FC_T *const *x, FC_T *y, int32_t *arg,
                        int32_t t0, int acc) {
#if defined(__AVX512F__)
    if (sizeof(FC_T) == 4)
        vmaxarg_f32(n, nr, (const float *const *)x, (float *)y, arg, t0, acc);
    else
        vmaxarg_f64(n, nr, (const double *const *)x, (double *)y, arg, t0, acc);
    return;
#endif
    vmaxarg(n, nr, x, y, arg, t0, acc);
}

/* AVX-512: the register versions (each value read once, y written once); else the plain loops */
static void vmax_any(size_t n, size_t nr, const FC_T *const *x, FC_T *y, int acc) {
#if defined(__AVX512F__)
    {
        if (sizeof(FC_T) == 4) vmax_f32(n, nr, (const float *const *)x, (float *)y, acc);
        else vmax_f64(n, nr, (const double *const *)x, (double *)y, acc);
        return;
    }
#endif
    vmax(n, nr, x, y, acc);
}

static void vsum_any(size_t n, size_t nr, const FC_T *const *x, FC_T *y, int acc) {
#if defined(__AVX512F__)
    {
        if (sizeof(FC_T) == 4) vsum_f32(n, nr, (const float *const *)x, (float *)y, acc);
        else vsum_f64(n, nr, (const double *const *)x, (double *)y, acc);
        return;
    }
#endif
    vsum(n, nr, x, y, acc);
}

#define FC_DEINTERLEAVE(NAME, U)                                                   \
    static void NAME(size_t n, size_t s, const U *restrict x, U *restrict y) {     \
        if (s == 2) {                                                              \
            for (size_t i = 0; i < n; i++) {                                       \
                y[i] = x[2 * i];                                                   \
                y[n + i] = x[2 * i + 1];                                           \
            }                                                                      \
        } else if (s == 3) {                                                       \
            for (size_t i = 0; i < n; i++) {                                       \
                y[i] = x[3 * i];                                                   \
                y[n + i] = x[3 * i + 1];                                           \
                y[2 * n + i] = x[3 * i + 2];                                       \
            }                                                                      \
        } else {                                                                   \
            for (size_t p = 0; p < s; p++)                                         \
                for (size_t i = 0; i < n; i++) y[p * n + i] = x[i * s + p];        \
        }                                                                          \
    }
FC_DEINTERLEAVE(deinterleave, FC_T)
FC_DEINTERLEAVE(deinterleave_i32, int32_t)
#undef FC_DEINTERLEAVE

static void interleave(size_t n, size_t s, const FC_T *restrict y, FC_T *restrict x) {
    if (s == 2) {
        for (size_t i = 0; i < n; i++) {
            x[2 * i] = y[i];
            x[2 * i + 1] = y[n + i];
        }
    } else {
        for (size_t p = 0; p < s; p++)
            for (size_t i = 0; i < n; i++) x[i * s + p] = y[p * n + i];
    }
}

static void gfill(size_t planes, size_t hw, const FC_T *restrict g, FC_T s,
                  FC_T *restrict y) {
#if defined(__AVX512F__)
    if (sizeof(FC_T) == 4) gfill_f32(planes, hw, (const float *)g, (float)s, (float *)y);
    else gfill_f64(planes, hw, (const double *)g, (double)s, (double *)y);
    return;
#endif
    for (size_t p = 0; p < planes; p++) {
        const FC_T v = g[p] * s;
        FC_T *restrict yp = y + p * hw;
        for (size_t i = 0; i < hw; i++) yp[i] = v;
    }
}

static void gsum(size_t planes, size_t hw, const FC_T *restrict x, FC_T s, FC_T *restrict y) {
#if defined(__AVX512F__)
    if (sizeof(FC_T) == 4) gsum_f32(planes, hw, (const float *)x, (float)s, (float *)y);
    else gsum_f64(planes, hw, (const double *)x, (double)s, (double *)y);
    return;
#endif
    for (size_t p = 0; p < planes; p++) {
        const FC_T *restrict xp = x + p * hw;
        FC_T acc[FC_LANES] = {0};
        size_t i = 0;
        for (; i + FC_LANES <= hw; i += FC_LANES)
            for (size_t j = 0; j < FC_LANES; j++) acc[j] += xp[i + j];
        for (size_t j = 0; i + j < hw; j++) acc[j] += xp[i + j];
        FC_T t = 0;
        for (size_t j = 0; j < FC_LANES; j++) t += acc[j];
        y[p] = t * s;
    }
}

static void gmax(size_t planes, size_t hw, const FC_T *restrict x, FC_T *restrict y) {
#if defined(__AVX512F__)
    if (sizeof(FC_T) == 4) gmax_f32(planes, hw, (const float *)x, 1, (float *)y);
    else gmax_f64(planes, hw, (const double *)x, 1, (double *)y);
    return;
#endif
    for (size_t p = 0; p < planes; p++) {
        const FC_T *restrict xp = x + p * hw;
        FC_T acc[FC_LANES];
        int nan = 0;
        for (size_t j = 0; j < FC_LANES; j++) acc[j] = xp[0];
        size_t i = 0;
        for (; i + FC_LANES <= hw; i += FC_LANES)
            for (size_t j = 0; j < FC_LANES; j++) {
                FC_T v = xp[i + j];
                nan |= v != v;
                acc[j] = v > acc[j] ? v : acc[j];
            }
        for (size_t j = 0; i + j < hw; j++) {
            FC_T v = xp[i + j];
            nan |= v != v;
            acc[j] = v > acc[j] ? v : acc[j];
        }
        FC_T t = acc[0];
        for (size_t j = 1; j < FC_LANES; j++) t = acc[j] > t ? acc[j] : t;
        y[p] = nan ? (FC_T)NAN : t;
    }
}

static int avgbwd_rows(size_t w, size_t cn, size_t ld, const int32_t *col, FC_T rf,
                       const FC_T *cf, const FC_T *g, size_t ow, size_t nr, FC_T *const *d,
                       int nt) {
#if defined(__AVX512F__)
    if (sizeof(FC_T) == 4)
        return avgbwd_rows_f32(w, cn, ld, col, (float)rf, (const float *)cf, (const float *)g,
                               ow, nr, (float *const *)d, nt);
    return avgbwd_rows_f64(w, cn, ld, col, (double)rf, (const double *)cf, (const double *)g,
                           ow, nr, (double *const *)d, nt);
#endif
    (void)ow; (void)nt;
    if (w == 0) return 0; /* NCHW rows: a scalar gather per value (AVX2: 2x the general path) */
    if (cn == 1 && ld == 1) { /* a chunk of the row once, then copied to every row */
        FC_T v[256];
        for (size_t c0 = 0; c0 < w; c0 += 256) {
            const size_t n = w - c0 < 256 ? w - c0 : 256;
            for (size_t j = 0; j < n; j++) {
                const int32_t o = col[c0 + j];
                v[j] = o >= 0 ? rf * (cf ? cf[o] : (FC_T)1) * g[o] : (FC_T)0;
            }
            for (size_t q = 0; q < nr; q++) memcpy(d[q] + c0, v, n * sizeof(FC_T));
        }
        return 1;
    }
    for (size_t c = 0; c < w; c++) {
        const int32_t o = col[c];
        const FC_T sv = o >= 0 ? rf * (cf ? cf[o] : (FC_T)1) : (FC_T)0;
        const FC_T *restrict gp = g + (o >= 0 ? (size_t)o * ld : 0);
        for (size_t q = 0; q < nr; q++) {
            FC_T *restrict p = d[q] + c * ld;
            if (o < 0) memset(p, 0, cn * sizeof(FC_T));
            else for (size_t i = 0; i < cn; i++) p[i] = sv * gp[i];
        }
    }
    return 1;
}

static const FC_TABLE_TYPE fc_pool_table = {
    vmax_any, vmaxarg_any, vmaxarg_ranked, vsum_any, vscale, vaxpy, vscatter_arg,
    maxbwd_tiled, maxfwd_3x3s2, maxbwd_3x3s2, maxbwd_3x3s2_nhwc, maxbwd_taps,
    avgbwd_rows, pool2x2s2, deinterleave, deinterleave_i32, interleave, gsum, gfill, gmax,
};

const FC_TABLE_TYPE *FC_TABLE_FN(void) { return &fc_pool_table; }

#undef FC_LANES
#undef FC_NOJAM
#undef FC_INLINE

