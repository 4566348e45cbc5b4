/* gradw, f32, 12 output channels x 16 input columns (1 vectors), avx512. */
#include <immintrin.h>
#define FC_T float
#define FC_MR 12
#define FC_NV 1
#define FC_NAME fc_f32_gradw_12x16__avx512
#define FC_VEC __m512
#define FC_VL 16
#define FC_LOAD _mm512_loadu_ps
#define FC_STORE _mm512_storeu_ps
#define FC_SET1 _mm512_set1_ps
#define FC_FMA _mm512_fmadd_ps
#include "gradw-simd.h"
