/* dwgradw, f32, 9 taps x 16 channels (2 vectors), avx2. */
#include <immintrin.h>
#define FC_T float
#define FC_MR 9
#define FC_NV 2
#define FC_NAME fc_f32_dwgradw_9x16__avx2
#define FC_VEC __m256
#define FC_VL 8
#define FC_LOAD _mm256_loadu_ps
#define FC_STORE _mm256_storeu_ps
#define FC_FMA _mm256_fmadd_ps
#include "dwgradw-simd.h"
