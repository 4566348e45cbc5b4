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
/* 2x2/2 NCHW gradient, 16 (float) or 8 (double) outputs a step, the last one masked:
 * the auto-vectoriser gives up on the chained selects of interleaved columns (and
 * its scalar fallback branches on random data). Returns outputs done (n). */
static size_t maxbwd_2x2_f32(size_t n, const float *a, const float *b, const float *g,
                             float *ga, float *gb) {
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
        _mm512_mask_storeu_ps(ga + 2 * o, m0, _mm512_permutex2var_ps(e0, lo, e1));
        _mm512_mask_storeu_ps(ga + 2 * o + 16, m1, _mm512_permutex2var_ps(e0, hi, e1));
        _mm512_mask_storeu_ps(gb + 2 * o, m0, _mm512_permutex2var_ps(e2, lo, e3));
        _mm512_mask_storeu_ps(gb + 2 * o + 16, m1, _mm512_permutex2var_ps(e2, hi, e3));
    }
    return o;
}

static size_t maxbwd_2x2_f64(size_t n, const double *a, const double *b, const double *g,
                             double *ga, double *gb) {
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
        _mm512_mask_storeu_pd(ga + 2 * o, m0, _mm512_permutex2var_pd(e0, lo, e1));
        _mm512_mask_storeu_pd(ga + 2 * o + 8, m1, _mm512_permutex2var_pd(e0, hi, e1));
        _mm512_mask_storeu_pd(gb + 2 * o, m0, _mm512_permutex2var_pd(e2, lo, e3));
        _mm512_mask_storeu_pd(gb + 2 * o + 8, m1, _mm512_permutex2var_pd(e2, hi, e3));
    }
    return o;
}

/* NHWC tiled gradient: channel vectors of 16 / 8, the last masked; the window's
 * argmax tap kept as a vector of ints. Same contract as maxbwd_tiled. */
#define FC_NHWC_TILED(NAME, T, V, M, L, SFX, IV, ISFX, ILOAD)                                  \
    static void NAME(size_t n, size_t c, size_t ld, size_t s, size_t kw, size_t kh,            \
                     const T *const *x, const T *g, T *const *gx) {                           \
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
                        _mm512_mask_storeu_##SFX(gx[rr] + (o * s + q) * ld + c0, mk,           \
                                                 _mm512_maskz_mov_##SFX(e, gv));               \
                    }                                                                          \
                    for (size_t q = kw; q < kw + gap; q++)                                     \
                        _mm512_mask_storeu_##SFX(gx[rr] + (o * s + q) * ld + c0, mk,           \
                                                 _mm512_setzero_##SFX());                      \
                }                                                                              \
            }                                                                                  \
        }                                                                                      \
    }
/* 3x3/2 NCHW gradient (contract in pool-ukernels.h), L outputs a step, the last masked:
 * even, odd and even+2 columns by permutes; the third tap's gradient reaches the next
 * output's first column through a one-lane shift carried across steps, added before
 * that output's own, as the indices path adds them. */
#define FC_3X3S2(NAME, T, V, M, L, SFX, IV, IX, ALIGN, SETI, ILV, CAST, UNCAST)                 \
    static void NAME(size_t n, size_t nr, const T *const *x, const T *g, T *const *gx) {       \
        const IV ev = SETI, od = _mm512_add_##IX(ev, _mm512_set1_##IX(1));                      \
        const IV il = ILV, ih = _mm512_add_##IX(il, _mm512_set1_##IX(L / 2));                  \
        V carry[3] = {_mm512_setzero_##SFX(), _mm512_setzero_##SFX(), _mm512_setzero_##SFX()}; \
        size_t o = 0, r = 0;                                                                   \
        for (; o < n; o += L) {                                                                \
            r = n - o < L ? n - o : L;                                                         \
            const size_t c2 = 2 * r, c3 = 2 * r - 1;                                           \
            const M mo = (M)((1u << r) - 1);                                                   \
            const M a0 = (M)(c2 >= L ? (1u << L) - 1 : (1u << c2) - 1);                        \
            const M a1 = (M)(c2 <= L ? 0 : (1u << (c2 - L)) - 1);                              \
            const M b0 = (M)(c3 >= L ? (1u << L) - 1 : (1u << c3) - 1);                        \
            const M b1 = (M)(c3 <= L ? 0 : (1u << (c3 - L)) - 1);                              \
            V m = _mm512_setzero_##SFX();                                                      \
            IV t = _mm512_setzero_si512();                                                     \
            for (size_t rr = 0; rr < nr; rr++) {                                               \
                const T *p = x[rr] + 2 * o;                                                    \
                V A = _mm512_maskz_loadu_##SFX(a0, p), B = _mm512_maskz_loadu_##SFX(a1, p + L); \
                V C = _mm512_maskz_loadu_##SFX(b0, p + 2);                                     \
                V D = _mm512_maskz_loadu_##SFX(b1, p + 2 + L);                                 \
                V v[3] = {_mm512_permutex2var_##SFX(A, ev, B),                                 \
                          _mm512_permutex2var_##SFX(A, od, B),                                 \
                          _mm512_permutex2var_##SFX(C, ev, D)};                                \
                for (int q = 0; q < 3; q++) {                                                  \
                    if (rr == 0 && q == 0) {                                                   \
                        m = v[0];                                                              \
                        continue;                                                              \
                    }                                                                          \
                    M k = _mm512_cmp_##SFX##_mask(v[q], m, _CMP_GT_OQ) |                       \
                          _mm512_cmp_##SFX##_mask(v[q], v[q], _CMP_UNORD_Q);                   \
                    m = _mm512_mask_blend_##SFX(k, m, v[q]);                                   \
                    t = _mm512_mask_mov_##IX(t, k, _mm512_set1_##IX((int)(3 * rr + q)));       \
                }                                                                              \
            }                                                                                  \
            const V gv = _mm512_maskz_loadu_##SFX(mo, g + o);                                  \
            for (size_t rr = 0; rr < nr; rr++) {                                               \
                V e[3];                                                                        \
                for (int q = 0; q < 3; q++)                                                    \
                    e[q] = _mm512_maskz_mov_##SFX(                                             \
                        _mm512_cmpeq_##IX##_mask(t, _mm512_set1_##IX((int)(3 * rr + q))), gv); \
                T *d = gx[rr] + 2 * o;                                                         \
                V G0 = _mm512_maskz_loadu_##SFX(a0, d), G1 = _mm512_maskz_loadu_##SFX(a1, d + L); \
                V Ge = _mm512_permutex2var_##SFX(G0, ev, G1);                                  \
                V Go = _mm512_permutex2var_##SFX(G0, od, G1);                                  \
                V sh = UNCAST(ALIGN(CAST(e[2]), CAST(carry[rr]), L - 1));                      \
                carry[rr] = e[2];                                                              \
                Ge = _mm512_add_##SFX(_mm512_add_##SFX(Ge, sh), e[0]);                         \
                Go = _mm512_add_##SFX(Go, e[1]);                                               \
                _mm512_mask_storeu_##SFX(d, a0, _mm512_permutex2var_##SFX(Ge, il, Go));        \
                _mm512_mask_storeu_##SFX(d + L, a1, _mm512_permutex2var_##SFX(Ge, ih, Go));    \
            }                                                                                  \
        }                                                                                      \
        if (n == 0) return;                                                                    \
        for (size_t rr = 0; rr < nr; rr++) { /* the last output's third column */             \
            T lanes[L];                                                                        \
            _mm512_storeu_##SFX(lanes, carry[rr]);                                             \
            gx[rr][2 * (n - 1) + 2] += lanes[r - 1];                                           \
        }                                                                                      \
    }
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
#define FC_VRED(NAME, T, V, M, L, SFX, IS_MAX)                                                  \
    static void NAME(size_t n, size_t nr, const T *const *x, T *y, int acc) {                   \
        for (size_t c0 = 0; c0 < n; c0 += L) {                                                  \
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
            for (; q < nr; q++) {                                                               \
                V v = _mm512_maskz_loadu_##SFX(mk, x[q] + c0);                                  \
                if (IS_MAX) {                                                                   \
                    M k = _mm512_cmp_##SFX##_mask(v, m, _CMP_GT_OQ) |                           \
                          _mm512_cmp_##SFX##_mask(v, v, _CMP_UNORD_Q);                          \
                    m = _mm512_mask_blend_##SFX(k, m, v);                                       \
                } else {                                                                        \
                    m = _mm512_add_##SFX(m, v);                                                 \
                }                                                                               \
            }                                                                                   \
            _mm512_mask_storeu_##SFX(y + c0, mk, m);                                            \
        }                                                                                       \
    }
FC_VRED(vmax_f32, float, __m512, __mmask16, 16, ps, 1)
FC_VRED(vmax_f64, double, __m512d, __mmask8, 8, pd, 1)
FC_VRED(vsum_f32, float, __m512, __mmask16, 16, ps, 0)
FC_VRED(vsum_f64, double, __m512d, __mmask8, 8, pd, 0)
#undef FC_VRED
FC_NHWC_TILED(maxbwd_nhwc_f32, float, __m512, __mmask16, 16, ps, __m512i, _mm512, _mm512_set1_epi32)
FC_NHWC_TILED(maxbwd_nhwc_f64, double, __m512d, __mmask8, 8, pd, __m256i, _mm256, _mm256_set1_epi32)
#undef FC_NHWC_TILED
#endif

FC_NOJAM static void maxbwd_tiled(size_t n, size_t c, size_t ld, size_t s, size_t kw,
                                  size_t kh, const FC_T *const *x, const FC_T *g,
                                  FC_T *const *gx) {
    if (c == 1 && ld == 1 && s == 2 && kw == 2 && kh == 2) { /* NCHW 2x2/2: one vector loop */
        const FC_T *restrict a = x[0], *restrict b = x[1];
        FC_T *restrict ga = gx[0], *restrict gb = gx[1];
        size_t o = 0;
#if defined(__AVX512F__)
        if (sizeof(FC_T) == 4)
            o = maxbwd_2x2_f32(n, (const float *)a, (const float *)b, (const float *)g,
                               (float *)ga, (float *)gb);
        else
            o = maxbwd_2x2_f64(n, (const double *)a, (const double *)b, (const double *)g,
                               (double *)ga, (double *)gb);
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
                        (float *const *)gx);
    else
        maxbwd_nhwc_f64(n, c, ld, s, kw, kh, (const double *const *)x, (const double *)g,
                        (double *const *)gx);
    return;
#endif
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

static void maxbwd_3x3s2(size_t n, size_t nr, const FC_T *const *x, const FC_T *g,
                         FC_T *const *gx) {
#if defined(__AVX512F__)
    if (sizeof(FC_T) == 4)
        maxbwd_3x3s2_f32(n, nr, (const float *const *)x, (const float *)g, (float *const *)gx);
    else
        maxbwd_3x3s2_f64(n, nr, (const double *const *)x, (const double *)g,
                         (double *const *)gx);
    return;
#endif
    for (size_t o = 0; o < n; o++) {
        FC_T m = x[0][2 * o];
        size_t t = 0;
        for (size_t r = 0; r < nr; r++)
            for (size_t q = 0; q < 3; q++) {
                FC_T v = x[r][2 * o + q];
                int k = (v > m) | (v != v);
                m = k ? v : m;
                t = k ? 3 * r + q : t;
            }
        gx[t / 3][2 * o + t % 3] += g[o];
    }
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

/* the masked versions for short rows (few channels), the plain loops otherwise */
static void vmax_any(size_t n, size_t nr, const FC_T *const *x, FC_T *y, int acc) {
#if defined(__AVX512F__)
    if (n < 64) {
        if (sizeof(FC_T) == 4) vmax_f32(n, nr, (const float *const *)x, (float *)y, acc);
        else vmax_f64(n, nr, (const double *const *)x, (double *)y, acc);
        return;
    }
#endif
    vmax(n, nr, x, y, acc);
}

static void vsum_any(size_t n, size_t nr, const FC_T *const *x, FC_T *y, int acc) {
#if defined(__AVX512F__)
    if (n < 64) {
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

static void gsum(size_t planes, size_t hw, const FC_T *restrict x, FC_T s, FC_T *restrict y) {
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

static const FC_TABLE_TYPE fc_pool_table = {
    vmax_any, vmaxarg_any, vmaxarg_ranked, vsum_any, vscale, vaxpy, vscatter_arg,
    maxbwd_tiled, maxbwd_3x3s2, maxbwd_taps,
    deinterleave, deinterleave_i32, interleave, gsum, gmax,
};

const FC_TABLE_TYPE *FC_TABLE_FN(void) { return &fc_pool_table; }

#undef FC_LANES
#undef FC_NOJAM
