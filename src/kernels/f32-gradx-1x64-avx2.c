/* gradx, f32, 1 input channel(s) x 64 pixels (8 vectors), avx2. */
#include <immintrin.h>
#define FC_T float
#define FC_MR 1
#define FC_NV 8
#define FC_NAME fc_f32_gradx_1x64__avx2
#define FC_VEC __m256
#define FC_VL 8
#define FC_LOAD _mm256_loadu_ps
#define FC_STORE _mm256_storeu_ps
#define FC_SET1 _mm256_set1_ps
#define FC_ZERO _mm256_setzero_ps
#define FC_FMA _mm256_fmadd_ps
#include "gradx-simd.h"
