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
    vmax, vmaxarg, vmaxarg_ranked, vsum, vscale, vaxpy, vscatter_arg,
    deinterleave, deinterleave_i32, interleave, gsum, gmax,
};

const FC_TABLE_TYPE *FC_TABLE_FN(void) { return &fc_pool_table; }

#undef FC_LANES
#undef FC_NOJAM
