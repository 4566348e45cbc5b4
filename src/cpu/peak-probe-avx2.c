/* FMA peak probe, AVX2+FMA: 16 ymm accumulators. */
#include <immintrin.h>
#define FC_VEC __m256
#define FC_FMA _mm256_fmadd_ps
#define FC_SET1 _mm256_set1_ps
#define FC_ADD _mm256_add_ps
#define FC_LANES 8
#define FC_NAME fc_fma_loop__avx2
#include "peak-probe.h"
