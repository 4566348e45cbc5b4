/* FMA peak probe, AVX-512: 16 zmm accumulators. */
#include <immintrin.h>
#define FC_VEC __m512
#define FC_FMA _mm512_fmadd_ps
#define FC_SET1 _mm512_set1_ps
#define FC_ADD _mm512_add_ps
#define FC_LANES 16
#define FC_NAME fc_fma_loop__avx512
#include "peak-probe.h"
