/* dwgradw, f32, 9 taps x 32 channels (2 vectors), avx512. */
#include <immintrin.h>
#define FC_T float
#define FC_MR 9
#define FC_NV 2
#define FC_NAME fc_f32_dwgradw_9x32__avx512
#define FC_VEC __m512
#define FC_VL 16
#define FC_LOAD _mm512_loadu_ps
#define FC_STORE _mm512_storeu_ps
#define FC_FMA _mm512_fmadd_ps
#include "dwgradw-simd.h"
