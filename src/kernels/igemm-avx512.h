/* AVX-512 vector macros for igemm-simd.h; include only from *-avx512.c files.
 * FC_T must be float or double. */
#include <immintrin.h>

#define FC_AVX512_MASK(n) ((__mmask16)((1u << (n)) - 1u))
#if FC_F64
#define FC_V __m512d
#define FC_L 8
#define FC_VLOAD(p) _mm512_loadu_pd(p)
#define FC_VSET1(x) _mm512_set1_pd(x)
#define FC_VZERO() _mm512_setzero_pd()
#define FC_VFMA(a, b, c) _mm512_fmadd_pd(a, b, c)
#define FC_VADD(a, b) _mm512_add_pd(a, b)
#define FC_VMAX0(v) _mm512_max_pd(_mm512_setzero_pd(), v)
#define FC_VSTORE(p, v) _mm512_storeu_pd(p, v)
#define FC_VLOAD_PART(p, n) _mm512_maskz_loadu_pd((__mmask8)FC_AVX512_MASK(n), p)
#define FC_VSTORE_PART(p, v, n) _mm512_mask_storeu_pd(p, (__mmask8)FC_AVX512_MASK(n), v)
#else
#define FC_V __m512
#define FC_L 16
#define FC_VLOAD(p) _mm512_loadu_ps(p)
#define FC_VSET1(x) _mm512_set1_ps(x)
#define FC_VZERO() _mm512_setzero_ps()
#define FC_VFMA(a, b, c) _mm512_fmadd_ps(a, b, c)
#define FC_VADD(a, b) _mm512_add_ps(a, b)
#define FC_VMAX0(v) _mm512_max_ps(_mm512_setzero_ps(), v)
#define FC_VSTORE(p, v) _mm512_storeu_ps(p, v)
#define FC_VLOAD_PART(p, n) _mm512_maskz_loadu_ps(FC_AVX512_MASK(n), p)
#define FC_VSTORE_PART(p, v, n) _mm512_mask_storeu_ps(p, FC_AVX512_MASK(n), v)
#endif
