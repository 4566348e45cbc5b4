/* gradw, f32, 6 output channels x 16 input columns (2 vectors), avx2. */
#include <immintrin.h>
#define FC_T float
#define FC_MR 6
#define FC_NV 2
#define FC_NAME fc_f32_gradw_6x16__avx2
#define FC_VEC __m256
#define FC_VL 8
#define FC_LOAD _mm256_loadu_ps
#define FC_STORE _mm256_storeu_ps
#define FC_SET1 _mm256_set1_ps
#define FC_FMA _mm256_fmadd_ps
#include "gradw-simd.h"
