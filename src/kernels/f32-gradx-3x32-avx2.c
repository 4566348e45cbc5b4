/* gradx, f32, 3 input channel(s) x 32 pixels (4 vectors), avx2. */
#include <immintrin.h>
#define FC_T float
#define FC_MR 3
#define FC_NV 4
#define FC_NAME fc_f32_gradx_3x32__avx2
#define FC_VEC __m256
#define FC_VL 8
#define FC_LOAD _mm256_loadu_ps
#define FC_STORE _mm256_storeu_ps
#define FC_SET1 _mm256_set1_ps
#define FC_ZERO _mm256_setzero_ps
#define FC_FMA _mm256_fmadd_ps
#include "gradx-simd.h"
