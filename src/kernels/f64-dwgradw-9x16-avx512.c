/* dwgradw, f64, 9 taps x 16 channels (2 vectors), avx512. */
#include <immintrin.h>
#define FC_T double
#define FC_MR 9
#define FC_NV 2
#define FC_NAME fc_f64_dwgradw_9x16__avx512
#define FC_VEC __m512d
#define FC_VL 8
#define FC_LOAD _mm512_loadu_pd
#define FC_STORE _mm512_storeu_pd
#define FC_FMA _mm512_fmadd_pd
#include "dwgradw-simd.h"
