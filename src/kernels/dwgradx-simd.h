/* Template of the dwgradx micro-kernels (contract in dwgradx.h). Include with
 * FC_T (FC_T_IS_DOUBLE for double), FC_SIMD (see dwconv-smallc-simd.h), FC_NU
 * (vectors per step of a stride-1 row) and FC_NAME. */
#include "dwgradx.h"
#include "dwconv-smallc-simd.h"

/* lo|hi = e0 o0 e1 o1 ...: the inverse of v_deint2 */
static inline void fc_dwgx_int2(fc_vec e, fc_vec o, fc_vec *lo, fc_vec *hi) {
#if FC_SIMD == 3 && defined(FC_T_IS_DOUBLE)
    *lo = _mm512_permutex2var_pd(e, _mm512_setr_epi64(0, 8, 1, 9, 2, 10, 3, 11), o);
    *hi = _mm512_permutex2var_pd(e, _mm512_setr_epi64(4, 12, 5, 13, 6, 14, 7, 15), o);
#elif FC_SIMD == 3
    *lo = _mm512_permutex2var_ps(
        e, _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23), o);
    *hi = _mm512_permutex2var_ps(
        e, _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31), o);
#elif FC_SIMD == 2 && defined(FC_T_IS_DOUBLE)
    const __m256d l = _mm256_unpacklo_pd(e, o), h = _mm256_unpackhi_pd(e, o);
    *lo = _mm256_permute2f128_pd(l, h, 0x20);
    *hi = _mm256_permute2f128_pd(l, h, 0x31);
#elif FC_SIMD == 2
    const __m256 l = _mm256_unpacklo_ps(e, o), h = _mm256_unpackhi_ps(e, o);
    *lo = _mm256_permute2f128_ps(l, h, 0x20);
    *hi = _mm256_permute2f128_ps(l, h, 0x31);
#else
    *lo = e;
    *hi = o;
#endif
}

/* One vector of phase pixels [j, j + V) from nt taps; lanes past n (the
 * phase's pixel count) read as zero, their memory untouched. */
static inline __attribute__((always_inline)) fc_vec
fc_dwgx_vec(size_t nt, const FC_T *const *src, const FC_T *wt, size_t o, size_t j, size_t n,
            fc_vec b) {
    fc_vec a = b;
    if (j + FC_V <= n) {
        for (size_t t = 0; t < nt; t++) a = v_fma(v_set1(wt[t]), v_load(src[t] + o + j), a);
    } else {
        const fc_mask m = m_first(j < n ? (int64_t)(n - j) : 0);
        for (size_t t = 0; t < nt; t++) a = v_fma(v_set1(wt[t]), v_loadm(src[t] + o + j, m), a);
    }
    return a;
}

void FC_NAME(size_t rows, size_t nd, size_t sw, const size_t *nt, size_t ts,
             const FC_T *const *src, size_t s_rs, const FC_T *wt, FC_T bias, FC_T *dst,
             size_t d_rs) {
    const fc_vec b = v_set1(bias);
    for (size_t r = 0; r < rows; r++) {
        const size_t o = r * s_rs;
        FC_T *d = dst + r * d_rs;
        if (sw == 1) {
            const size_t n = nt[0];
            /* FC_NU independent chains: one broadcast per FC_NU loads; the
               last step masked (a 56-pixel row is one step, not 4 single
               vectors of a broadcast and a load per FMA each) */
            for (size_t j = 0; j < nd; j += FC_NU * FC_V) {
                fc_vec a[FC_NU];
                fc_mask m[FC_NU];
                const int full = j + FC_NU * FC_V <= nd;
#pragma GCC unroll 8
                for (int u = 0; u < FC_NU; u++) {
                    const size_t ju = j + (size_t)u * FC_V;
                    a[u] = b;
                    m[u] = m_first(ju < nd ? (int64_t)(nd - ju) : 0);
                }
                if (full) {
                    for (size_t t = 0; t < n; t++) {
                        const fc_vec w = v_set1(wt[t]);
                        const FC_T *s = src[t] + o + j;
#pragma GCC unroll 8
                        for (int u = 0; u < FC_NU; u++) a[u] = v_fma(w, v_load(s + u * FC_V), a[u]);
                    }
#pragma GCC unroll 8
                    for (int u = 0; u < FC_NU; u++) v_store(d + j + u * FC_V, a[u]);
                } else {
                    for (size_t t = 0; t < n; t++) {
                        const fc_vec w = v_set1(wt[t]);
                        const FC_T *s = src[t] + o + j;
#pragma GCC unroll 8
                        for (int u = 0; u < FC_NU; u++)
                            a[u] = v_fma(w, v_loadm(s + u * FC_V, m[u]), a[u]);
                    }
#pragma GCC unroll 8
                    for (int u = 0; u < FC_NU; u++) v_storem(d + j + u * FC_V, a[u], m[u]);
                }
            }
        } else if (sw == 2) {
            /* phase 0 holds pixels 0, 2, ..; phase 1 pixels 1, 3, .. */
            const size_t n0 = (nd + 1) / 2, n1 = nd / 2;
            for (size_t j = 0; j < n0; j += FC_V) {
                const fc_vec e = fc_dwgx_vec(nt[0], src, wt, o, j, n0, b);
                const fc_vec od = fc_dwgx_vec(nt[1], src + ts, wt + ts, o, j, n1, b);
                fc_vec lo, hi;
                fc_dwgx_int2(e, od, &lo, &hi);
                const size_t p = 2 * j;
                if (p + 2 * FC_V <= nd) {
                    v_store(d + p, lo);
                    v_store(d + p + FC_V, hi);
                } else {
                    v_storem(d + p, lo, m_first((int64_t)(nd - p)));
                    if (p + FC_V < nd) v_storem(d + p + FC_V, hi, m_first((int64_t)(nd - p - FC_V)));
                }
            }
        } else {
            for (size_t q = 0; q < sw && q < nd; q++) {
                const size_t n = (nd - q + sw - 1) / sw;
                for (size_t j = 0; j < n; j += FC_V) {
                    FC_T tmp[FC_V];
                    v_store(tmp, fc_dwgx_vec(nt[q], src + q * ts, wt + q * ts, o, j, n, b));
                    for (size_t l = 0; l < FC_V && j + l < n; l++) d[(j + l) * sw + q] = tmp[l];
                }
            }
        }
    }
}
