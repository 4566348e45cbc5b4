/* transpose, float32, AVX-512: 16x16 blocks in registers (see
 * transpose-avx512.h; 1 thread, NCHW 3x3 64 @224: the layout changes were a
 * fifth of the layer's time with 4x4 SSE2 blocks). */
#include "tr16-avx512.h"
#define FC_T float
#define FC_B 16
#define FC_V __m512
#define FC_MASK __mmask16
#define FC_VLOAD(p) _mm512_loadu_ps(p)
#define FC_VLOADZ(m, p) _mm512_maskz_loadu_ps(m, p)
#define FC_VZERO() _mm512_setzero_ps()
#define FC_VSTORE(p, v) _mm512_storeu_ps(p, v)
#define FC_VSTOREM(p, m, v) _mm512_mask_storeu_ps(p, m, v)
#define FC_VTRANSPOSE(r) fc_tr16_ps(r)
#define FC_NAME fc_f32_transpose_16x16__avx512
#include "transpose-avx512.h"
