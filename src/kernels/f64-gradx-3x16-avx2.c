/* gradx, f64, 3 input channel(s) x 16 pixels (4 vectors), avx2. */
#include <immintrin.h>
#define FC_T double
#define FC_MR 3
#define FC_NV 4
#define FC_NAME fc_f64_gradx_3x16__avx2
#define FC_VEC __m256d
#define FC_VL 4
#define FC_LOAD _mm256_loadu_pd
#define FC_STORE _mm256_storeu_pd
#define FC_SET1 _mm256_set1_pd
#define FC_ZERO _mm256_setzero_pd
#define FC_FMA _mm256_fmadd_pd
#include "gradx-simd.h"
