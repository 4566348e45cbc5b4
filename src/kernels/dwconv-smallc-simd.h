/* Vector vocabulary of the depthwise and small-channel kernel templates.
 *
 * Include once per translation unit with FC_T (float or double) and FC_SIMD
 * (0 portable C, 2 AVX2+FMA, 3 AVX-512) defined. Everything is `static inline`
 * and private to the unit, so units built with different ISA flags never share
 * an ISA-specific function. Provides:
 *   FC_V lanes; fc_vec; fc_mask (first n lanes);
 *   v_zero, v_set1, v_load (unaligned), v_store, v_fma(a,b,c)=a*b+c,
 *   v_add, v_sub, v_mul,
 *   v_relu (max with 0, NaN kept), m_first(n), m_bits(lane bits), v_loadm, v_storem
 *   (masked-off lanes are never touched: they may point outside the array),
 *   v_deint2(a, b, &even, &odd): the even and odd lanes of the 2V values a|b. */
#include <stdint.h>

#if FC_SIMD == 3
#include <immintrin.h>
#if defined(FC_T_IS_DOUBLE)
#define FC_V 8
typedef __m512d fc_vec;
typedef __mmask8 fc_mask;
static inline fc_vec v_zero(void) { return _mm512_setzero_pd(); }
static inline fc_vec v_set1(double s) { return _mm512_set1_pd(s); }
static inline fc_vec v_load(const double *p) { return _mm512_loadu_pd(p); }
static inline void v_store(double *p, fc_vec v) { _mm512_storeu_pd(p, v); }
static inline fc_vec v_fma(fc_vec a, fc_vec b, fc_vec c) { return _mm512_fmadd_pd(a, b, c); }
static inline fc_vec v_add(fc_vec a, fc_vec b) { return _mm512_add_pd(a, b); }
static inline fc_vec v_sub(fc_vec a, fc_vec b) { return _mm512_sub_pd(a, b); }
static inline fc_vec v_mul(fc_vec a, fc_vec b) { return _mm512_mul_pd(a, b); }
static inline fc_vec v_relu(fc_vec v) { return _mm512_max_pd(_mm512_setzero_pd(), v); }
static inline fc_mask m_first(int64_t n) { return (fc_mask)((1u << (n > 8 ? 8 : n)) - 1u); }
static inline fc_mask m_bits(uint32_t b) { return (fc_mask)b; }
static inline fc_vec v_loadm(const double *p, fc_mask m) { return _mm512_maskz_loadu_pd(m, p); }
static inline void v_storem(double *p, fc_vec v, fc_mask m) { _mm512_mask_storeu_pd(p, m, v); }
static inline void v_deint2(fc_vec a, fc_vec b, fc_vec *e, fc_vec *o) {
    *e = _mm512_permutex2var_pd(a, _mm512_setr_epi64(0, 2, 4, 6, 8, 10, 12, 14), b);
    *o = _mm512_permutex2var_pd(a, _mm512_setr_epi64(1, 3, 5, 7, 9, 11, 13, 15), b);
}
#else
#define FC_V 16
typedef __m512 fc_vec;
typedef __mmask16 fc_mask;
static inline fc_vec v_zero(void) { return _mm512_setzero_ps(); }
static inline fc_vec v_set1(float s) { return _mm512_set1_ps(s); }
static inline fc_vec v_load(const float *p) { return _mm512_loadu_ps(p); }
static inline void v_store(float *p, fc_vec v) { _mm512_storeu_ps(p, v); }
static inline fc_vec v_fma(fc_vec a, fc_vec b, fc_vec c) { return _mm512_fmadd_ps(a, b, c); }
static inline fc_vec v_add(fc_vec a, fc_vec b) { return _mm512_add_ps(a, b); }
static inline fc_vec v_sub(fc_vec a, fc_vec b) { return _mm512_sub_ps(a, b); }
static inline fc_vec v_mul(fc_vec a, fc_vec b) { return _mm512_mul_ps(a, b); }
static inline fc_vec v_relu(fc_vec v) { return _mm512_max_ps(_mm512_setzero_ps(), v); }
static inline fc_mask m_first(int64_t n) { return (fc_mask)((1u << (n > 16 ? 16 : n)) - 1u); }
static inline fc_mask m_bits(uint32_t b) { return (fc_mask)b; }
static inline fc_vec v_loadm(const float *p, fc_mask m) { return _mm512_maskz_loadu_ps(m, p); }
static inline void v_storem(float *p, fc_vec v, fc_mask m) { _mm512_mask_storeu_ps(p, m, v); }
static inline void v_deint2(fc_vec a, fc_vec b, fc_vec *e, fc_vec *o) {
    *e = _mm512_permutex2var_ps(
        a, _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30), b);
    *o = _mm512_permutex2var_ps(
        a, _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31), b);
}
#endif

#elif FC_SIMD == 2
#include <immintrin.h>
#if defined(FC_T_IS_DOUBLE)
#define FC_V 4
typedef __m256d fc_vec;
typedef __m256i fc_mask;
static inline fc_vec v_zero(void) { return _mm256_setzero_pd(); }
static inline fc_vec v_set1(double s) { return _mm256_set1_pd(s); }
static inline fc_vec v_load(const double *p) { return _mm256_loadu_pd(p); }
static inline void v_store(double *p, fc_vec v) { _mm256_storeu_pd(p, v); }
static inline fc_vec v_fma(fc_vec a, fc_vec b, fc_vec c) { return _mm256_fmadd_pd(a, b, c); }
static inline fc_vec v_add(fc_vec a, fc_vec b) { return _mm256_add_pd(a, b); }
static inline fc_vec v_sub(fc_vec a, fc_vec b) { return _mm256_sub_pd(a, b); }
static inline fc_vec v_mul(fc_vec a, fc_vec b) { return _mm256_mul_pd(a, b); }
static inline fc_vec v_relu(fc_vec v) { return _mm256_max_pd(_mm256_setzero_pd(), v); }
static inline fc_mask m_first(int64_t n) {
    return _mm256_cmpgt_epi64(_mm256_set1_epi64x(n), _mm256_setr_epi64x(0, 1, 2, 3));
}
static inline fc_mask m_bits(uint32_t b) {
    const __m256i bit = _mm256_setr_epi64x(1, 2, 4, 8);
    return _mm256_cmpeq_epi64(_mm256_and_si256(_mm256_set1_epi64x(b), bit), bit);
}
static inline fc_vec v_loadm(const double *p, fc_mask m) { return _mm256_maskload_pd(p, m); }
static inline void v_storem(double *p, fc_vec v, fc_mask m) { _mm256_maskstore_pd(p, m, v); }
static inline void v_deint2(fc_vec a, fc_vec b, fc_vec *e, fc_vec *o) {
    *e = _mm256_permute4x64_pd(_mm256_unpacklo_pd(a, b), 0xD8);
    *o = _mm256_permute4x64_pd(_mm256_unpackhi_pd(a, b), 0xD8);
}
#else
#define FC_V 8
typedef __m256 fc_vec;
typedef __m256i fc_mask;
static inline fc_vec v_zero(void) { return _mm256_setzero_ps(); }
static inline fc_vec v_set1(float s) { return _mm256_set1_ps(s); }
static inline fc_vec v_load(const float *p) { return _mm256_loadu_ps(p); }
static inline void v_store(float *p, fc_vec v) { _mm256_storeu_ps(p, v); }
static inline fc_vec v_fma(fc_vec a, fc_vec b, fc_vec c) { return _mm256_fmadd_ps(a, b, c); }
static inline fc_vec v_add(fc_vec a, fc_vec b) { return _mm256_add_ps(a, b); }
static inline fc_vec v_sub(fc_vec a, fc_vec b) { return _mm256_sub_ps(a, b); }
static inline fc_vec v_mul(fc_vec a, fc_vec b) { return _mm256_mul_ps(a, b); }
static inline fc_vec v_relu(fc_vec v) { return _mm256_max_ps(_mm256_setzero_ps(), v); }
static inline fc_mask m_first(int64_t n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(n > 8 ? 8 : n)),
                              _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
static inline fc_mask m_bits(uint32_t b) {
    const __m256i bit = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
    return _mm256_cmpeq_epi32(_mm256_and_si256(_mm256_set1_epi32((int)b), bit), bit);
}
static inline fc_vec v_loadm(const float *p, fc_mask m) { return _mm256_maskload_ps(p, m); }
static inline void v_storem(float *p, fc_vec v, fc_mask m) { _mm256_maskstore_ps(p, m, v); }
static inline void v_deint2(fc_vec a, fc_vec b, fc_vec *e, fc_vec *o) {
    *e = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(a, b, 0x88)), 0xD8));
    *o = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(a, b, 0xDD)), 0xD8));
}
#endif

#else /* portable C: one-lane "vectors"; the compiler may still vectorise the loops */
#define FC_V 1
typedef FC_T fc_vec;
typedef int fc_mask;
static inline fc_vec v_zero(void) { return (FC_T)0; }
static inline fc_vec v_set1(FC_T s) { return s; }
static inline fc_vec v_load(const FC_T *p) { return *p; }
static inline void v_store(FC_T *p, fc_vec v) { *p = v; }
static inline fc_vec v_fma(fc_vec a, fc_vec b, fc_vec c) { return a * b + c; }
static inline fc_vec v_add(fc_vec a, fc_vec b) { return a + b; }
static inline fc_vec v_sub(fc_vec a, fc_vec b) { return a - b; }
static inline fc_vec v_mul(fc_vec a, fc_vec b) { return a * b; }
static inline fc_vec v_relu(fc_vec v) { return (v > 0 || v != v) ? v : (FC_T)0; }
static inline fc_mask m_first(int64_t n) { return n > 0; }
static inline fc_mask m_bits(uint32_t b) { return (int)(b & 1u); }
static inline fc_vec v_loadm(const FC_T *p, fc_mask m) { return m ? *p : (FC_T)0; }
static inline void v_storem(FC_T *p, fc_vec v, fc_mask m) { if (m) *p = v; }
static inline void v_deint2(fc_vec a, fc_vec b, fc_vec *e, fc_vec *o) { (void)b; *e = a; *o = b; }
#endif
