/* dwgradw, f64, 9 taps x 8 channels (2 vectors), avx2. */
#include <immintrin.h>
#define FC_T double
#define FC_MR 9
#define FC_NV 2
#define FC_NAME fc_f64_dwgradw_9x8__avx2
#define FC_VEC __m256d
#define FC_VL 4
#define FC_LOAD _mm256_loadu_pd
#define FC_STORE _mm256_storeu_pd
#define FC_FMA _mm256_fmadd_pd
#include "dwgradw-simd.h"
