/* Template of the wino transform kernels (contract in winograd.h). Include
 * with FC_T, FC_SIMD (see dwconv-smallc-simd.h), FC_WINO_M (4: F(4x4, 3x3),
 * 2: F(2x2, 3x3)), FC_TABLE_TYPE and FC_TABLE_FN defined. Each 1-D transform
 * is written once (the B^T, G, A^T rows below) and applied along columns,
 * then rows; a channel vector's P*P values pass through a local array (L1),
 * the channel tail masked. */
#include "winograd.h"
#include "dwconv-smallc-simd.h"

#define FC_INLINE static inline __attribute__((always_inline))
#define FC_WP (FC_WINO_M + 2) /* input patch side */
#define FC_WN (FC_WP * FC_WP) /* coefficients per patch */

#if FC_WINO_M == 4

/* t = B^T d along one dimension: 6 values, stride 1 in and out */
FC_INLINE void fc_wino_bt(const fc_vec *d, int ds, fc_vec *t, int ts) {
    const fc_vec d0 = d[0], d1 = d[ds], d2 = d[2 * ds], d3 = d[3 * ds], d4 = d[4 * ds],
                 d5 = d[5 * ds];
    const fc_vec c4 = v_set1((FC_T)4), m5 = v_set1((FC_T)-5), c2 = v_set1((FC_T)2),
                 m4 = v_set1((FC_T)-4);
    t[0] = v_fma(c4, d0, v_fma(m5, d2, d4));
    t[ts] = v_fma(m4, v_add(d1, d2), v_add(d3, d4));
    t[2 * ts] = v_fma(c4, v_sub(d1, d2), v_sub(d4, d3));
    t[3 * ts] = v_fma(c2, v_sub(d3, d1), v_sub(d4, d2));
    t[4 * ts] = v_fma(c2, v_sub(d1, d3), v_sub(d4, d2));
    t[5 * ts] = v_fma(c4, d1, v_fma(m5, d3, d5));
}

/* o = A^T m along one dimension: 6 values in, 4 out */
FC_INLINE void fc_wino_at(const fc_vec *m, int ms, fc_vec *o, int os) {
    const fc_vec p12 = v_add(m[ms], m[2 * ms]), d12 = v_sub(m[ms], m[2 * ms]);
    const fc_vec p34 = v_add(m[3 * ms], m[4 * ms]), d34 = v_sub(m[3 * ms], m[4 * ms]);
    o[0] = v_add(v_add(m[0], p12), p34);
    o[os] = v_fma(v_set1((FC_T)2), d34, d12);
    o[2 * os] = v_fma(v_set1((FC_T)4), p34, p12);
    o[3 * os] = v_add(v_fma(v_set1((FC_T)8), d34, d12), m[5 * ms]);
}

/* u = G g along one dimension: 3 values in, 6 out */
FC_INLINE void fc_wino_g(const fc_vec *g, int gs, fc_vec *u, int us) {
    const fc_vec g0 = g[0], g1 = g[gs], g2 = g[2 * gs];
    const fc_vec s02 = v_add(g0, g2);
    const fc_vec e = v_fma(v_set1((FC_T)(1.0 / 24)), g0, v_mul(v_set1((FC_T)(1.0 / 6)), g2));
    u[0] = v_mul(v_set1((FC_T)0.25), g0);
    u[us] = v_mul(v_set1((FC_T)(-1.0 / 6)), v_add(s02, g1));
    u[2 * us] = v_mul(v_set1((FC_T)(-1.0 / 6)), v_sub(s02, g1));
    u[3 * us] = v_fma(v_set1((FC_T)(1.0 / 12)), g1, e);
    u[4 * us] = v_fma(v_set1((FC_T)(-1.0 / 12)), g1, e);
    u[5 * us] = g2;
}

#elif FC_WINO_M == 2
/* F(2x2, 3x3), points 0, 1, -1, inf: B^T d, A^T m, G g along one dimension */
FC_INLINE void fc_wino_bt(const fc_vec *d, int ds, fc_vec *t, int ts) {
    t[0] = v_sub(d[0], d[2 * ds]);
    t[ts] = v_add(d[ds], d[2 * ds]);
    t[2 * ts] = v_sub(d[2 * ds], d[ds]);
    t[3 * ts] = v_sub(d[ds], d[3 * ds]);
}

FC_INLINE void fc_wino_at(const fc_vec *m, int ms, fc_vec *o, int os) {
    o[0] = v_add(v_add(m[0], m[ms]), m[2 * ms]);
    o[os] = v_sub(v_sub(m[ms], m[2 * ms]), m[3 * ms]);
}

FC_INLINE void fc_wino_g(const fc_vec *g, int gs, fc_vec *u, int us) {
    const fc_vec h = v_set1((FC_T)0.5), s02 = v_add(g[0], g[2 * gs]);
    u[0] = g[0];
    u[us] = v_mul(h, v_add(s02, g[gs]));
    u[2 * us] = v_mul(h, v_sub(s02, g[gs]));
    u[3 * us] = g[2 * gs];
}
#else
#error "FC_WINO_M must be 4 or 2"
#endif

/* 1 if every lane of the running check (sum of value * 0) is still 0 */
FC_INLINE int fc_wino_finite(fc_vec chk) {
    FC_T lanes[FC_V];
    v_store(lanes, chk);
    int ok = 1;
    for (int i = 0; i < FC_V; i++) ok &= lanes[i] == lanes[i];
    return ok;
}

/* p[xi*ps] = r[xi] for the FC_WN coefficients (the first n lanes, mask m);
 * returns the running finiteness check with them added */
FC_INLINE fc_vec fc_wino_store_all(FC_T *p, int64_t ps, const fc_vec *r, int64_t n, fc_mask m,
                                 fc_vec chk) {
    const fc_vec zero = v_zero();
#pragma GCC unroll 36
    for (int xi = 0; xi < FC_WN; xi++) {
        chk = v_fma(r[xi], zero, chk);
        if (n == FC_V) v_store(p + xi * ps, r[xi]);
        else v_storem(p + xi * ps, r[xi], m);
    }
    return chk;
}

static int fc_wino_input(const FC_T *x, int64_t o0, int64_t rs, int64_t ps, uint32_t rmask,
                         uint32_t cmask, int64_t nc, FC_T *v, int64_t vs) {
    const fc_vec zero = v_zero();
    fc_vec chk = zero;
    for (int64_t c = 0; c < nc; c += FC_V) {
        const int64_t n = nc - c < FC_V ? nc - c : FC_V;
        const fc_mask m = m_first(n);
        fc_vec d[FC_WN], t[FC_WN];
#pragma GCC unroll 6
        for (int r = 0; r < FC_WP; r++)
#pragma GCC unroll 6
            for (int s = 0; s < FC_WP; s++) {
                const int in = (rmask >> r & 1u) && (cmask >> s & 1u);
                const FC_T *p = in ? x + (o0 + r * rs + s * ps + c) : NULL;
                d[r * FC_WP + s] = !in ? zero : n == FC_V ? v_load(p) : v_loadm(p, m);
            }
#pragma GCC unroll 6
        for (int s = 0; s < FC_WP; s++) fc_wino_bt(d + s, FC_WP, t + s, FC_WP);
#pragma GCC unroll 6
        for (int a = 0; a < FC_WP; a++) fc_wino_bt(t + a * FC_WP, 1, d + a * FC_WP, 1);
        chk = fc_wino_store_all(v + c, vs, d, n, m, chk);
    }
    return fc_wino_finite(chk);
}

static int fc_wino_output(const FC_T *mp, int64_t ms, int64_t nc, const FC_T *bias, FC_T *y,
                          int64_t rs, int64_t ps, int nrow, int ncol, uint32_t flags) {
    const fc_vec zero = v_zero();
    const int relu = (flags & FC_FLAG_RELU) != 0;
    fc_vec chk = zero;
    for (int64_t k = 0; k < nc; k += FC_V) {
        const int64_t n = nc - k < FC_V ? nc - k : FC_V;
        const fc_mask m = m_first(n);
        fc_vec t[FC_WN], z[FC_WINO_M * FC_WP], o[FC_WINO_M * FC_WINO_M];
#pragma GCC unroll 36
        for (int xi = 0; xi < FC_WN; xi++)
            t[xi] = n == FC_V ? v_load(mp + xi * ms + k) : v_loadm(mp + xi * ms + k, m);
#pragma GCC unroll 6
        for (int b = 0; b < FC_WP; b++) fc_wino_at(t + b, FC_WP, z + b, FC_WP);
#pragma GCC unroll 4
        for (int i = 0; i < FC_WINO_M; i++)
            fc_wino_at(z + i * FC_WP, 1, o + i * FC_WINO_M, 1);
        const fc_vec bv = bias == NULL ? zero : n == FC_V ? v_load(bias + k) : v_loadm(bias + k, m);
        for (int i = 0; i < nrow; i++)
            for (int j = 0; j < ncol; j++) {
                fc_vec r = v_add(o[i * FC_WINO_M + j], bv);
                chk = v_fma(r, zero, chk);
                if (relu) r = v_relu(r);
                FC_T *q = y + (i * rs + j * ps + k);
                if (n == FC_V) v_store(q, r);
                else v_storem(q, r, m);
            }
    }
    return fc_wino_finite(chk);
}

static int fc_wino_weight(const FC_T *w, int64_t ws, int64_t nk, FC_T *u, int64_t us) {
    const fc_vec zero = v_zero();
    fc_vec chk = zero;
    for (int64_t k = 0; k < nk; k += FC_V) {
        const int64_t n = nk - k < FC_V ? nk - k : FC_V;
        const fc_mask m = m_first(n);
        fc_vec g[9], t[3 * FC_WP], r[FC_WN];
#pragma GCC unroll 9
        for (int i = 0; i < 9; i++) g[i] = n == FC_V ? v_load(w + i * ws + k) : v_loadm(w + i * ws + k, m);
#pragma GCC unroll 3
        for (int j = 0; j < 3; j++) fc_wino_g(g + j, 3, t + j, 3);   /* t[a][j], a < 6 */
#pragma GCC unroll 6
        for (int a = 0; a < FC_WP; a++) fc_wino_g(t + a * 3, 1, r + a * FC_WP, 1);
        chk = fc_wino_store_all(u + k, us, r, n, m, chk);
    }
    return fc_wino_finite(chk);
}

static const FC_TABLE_TYPE fc_wino_table = {fc_wino_input, fc_wino_output, fc_wino_weight};

const FC_TABLE_TYPE *FC_TABLE_FN(void) { return &fc_wino_table; }
