/* AVX2+FMA vector macros for igemm-simd.h; include only from *-avx2.c files.
 * Partial loads/stores use maskload/maskstore with a lane-index comparison. */
#include <immintrin.h>

#if FC_F64
#define FC_V __m256d
#define FC_L 4
#define FC_AVX2_MASK(n) _mm256_cmpgt_epi64(_mm256_set1_epi64x((long long)(n)), \
                                           _mm256_setr_epi64x(0, 1, 2, 3))
#define FC_VLOAD(p) _mm256_loadu_pd(p)
#define FC_VSET1(x) _mm256_set1_pd(x)
#define FC_VZERO() _mm256_setzero_pd()
#define FC_VFMA(a, b, c) _mm256_fmadd_pd(a, b, c)
#define FC_VADD(a, b) _mm256_add_pd(a, b)
#define FC_VMAX0(v) _mm256_max_pd(_mm256_setzero_pd(), v)
#define FC_VSTORE(p, v) _mm256_storeu_pd(p, v)
#define FC_VLOAD_PART(p, n) _mm256_maskload_pd(p, FC_AVX2_MASK(n))
#define FC_VSTORE_PART(p, v, n) _mm256_maskstore_pd(p, FC_AVX2_MASK(n), v)
#else
#define FC_V __m256
#define FC_L 8
#define FC_AVX2_MASK(n) _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(n)), \
                                           _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7))
#define FC_VLOAD(p) _mm256_loadu_ps(p)
#define FC_VSET1(x) _mm256_set1_ps(x)
#define FC_VZERO() _mm256_setzero_ps()
#define FC_VFMA(a, b, c) _mm256_fmadd_ps(a, b, c)
#define FC_VADD(a, b) _mm256_add_ps(a, b)
#define FC_VMAX0(v) _mm256_max_ps(_mm256_setzero_ps(), v)
#define FC_VSTORE(p, v) _mm256_storeu_ps(p, v)
#define FC_VLOAD_PART(p, n) _mm256_maskload_ps(p, FC_AVX2_MASK(n))
#define FC_VSTORE_PART(p, v, n) _mm256_maskstore_ps(p, FC_AVX2_MASK(n), v)
#endif
