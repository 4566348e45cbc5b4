/* gradx, f64, 1 input channel(s) x 64 pixels (8 vectors), avx512. */
#include <immintrin.h>
#define FC_T double
#define FC_MR 1
#define FC_NV 8
#define FC_NAME fc_f64_gradx_1x64__avx512
#define FC_VEC __m512d
#define FC_VL 8
#define FC_LOAD _mm512_loadu_pd
#define FC_STORE _mm512_storeu_pd
#define FC_SET1 _mm512_set1_pd
#define FC_ZERO _mm512_setzero_pd
#define FC_FMA _mm512_fmadd_pd
#include "gradx-simd.h"
