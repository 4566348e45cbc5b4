/* gradw, f64, 12 output channels x 8 input columns (1 vectors), avx512. */
#include <immintrin.h>
#define FC_T double
#define FC_MR 12
#define FC_NV 1
#define FC_NAME fc_f64_gradw_12x8__avx512
#define FC_VEC __m512d
#define FC_VL 8
#define FC_LOAD _mm512_loadu_pd
#define FC_STORE _mm512_storeu_pd
#define FC_SET1 _mm512_set1_pd
#define FC_FMA _mm512_fmadd_pd
#include "gradw-simd.h"
