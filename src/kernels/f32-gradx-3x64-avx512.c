/* gradx, f32, 3 input channel(s) x 64 pixels (4 vectors), avx512. */
#include <immintrin.h>
#define FC_T float
#define FC_MR 3
#define FC_NV 4
#define FC_NAME fc_f32_gradx_3x64__avx512
#define FC_VEC __m512
#define FC_VL 16
#define FC_LOAD _mm512_loadu_ps
#define FC_STORE _mm512_storeu_ps
#define FC_SET1 _mm512_set1_ps
#define FC_ZERO _mm512_setzero_ps
#define FC_FMA _mm512_fmadd_ps
#include "gradx-simd.h"
