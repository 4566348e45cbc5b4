/* transpose, float64, AVX-512: 8x8 blocks in registers (see
 * transpose-avx512.h). The portable kernel's 2x2 SSE2 blocks were 8-15% of a
 * float64 NCHW conv's time (2 threads, 3x3 64 @56 and 256 @14). */
#include <immintrin.h>

/* In-place 8x8 transpose: r[i] lane j <- r[j] lane i (unpack by 1 lane, then
 * two rounds of 128-bit lane shuffles). */
static inline __attribute__((always_inline)) void fc_tr8_pd(__m512d r[8]) {
    __m512d t[8];
#pragma GCC unroll 4
    for (int i = 0; i < 4; i++) {
        t[2 * i] = _mm512_unpacklo_pd(r[2 * i], r[2 * i + 1]);     /* columns 0 2 4 6 */
        t[2 * i + 1] = _mm512_unpackhi_pd(r[2 * i], r[2 * i + 1]); /* columns 1 3 5 7 */
    }
    /* rows 0-3 (h = 0) and 4-7 (h = 1) of two column pairs per shuffle */
    __m512d u[8];
#pragma GCC unroll 2
    for (int h = 0; h < 2; h++)
#pragma GCC unroll 2
        for (int o = 0; o < 2; o++) {
            u[4 * h + o] = _mm512_shuffle_f64x2(t[4 * h + o], t[4 * h + o + 2], 0x88);
            u[4 * h + o + 2] = _mm512_shuffle_f64x2(t[4 * h + o], t[4 * h + o + 2], 0xdd);
        }
    /* u[0] columns {0, 4}, u[1] {1, 5}, u[2] {2, 6}, u[3] {3, 7}, rows 0-3 */
#pragma GCC unroll 4
    for (int c = 0; c < 4; c++) {
        r[c] = _mm512_shuffle_f64x2(u[c], u[c + 4], 0x88);
        r[c + 4] = _mm512_shuffle_f64x2(u[c], u[c + 4], 0xdd);
    }
}

#define FC_T double
#define FC_B 8
#define FC_V __m512d
#define FC_MASK __mmask8
#define FC_VLOAD(p) _mm512_loadu_pd(p)
#define FC_VLOADZ(m, p) _mm512_maskz_loadu_pd(m, p)
#define FC_VZERO() _mm512_setzero_pd()
#define FC_VSTORE(p, v) _mm512_storeu_pd(p, v)
#define FC_VSTOREM(p, m, v) _mm512_mask_storeu_pd(p, m, v)
#define FC_VTRANSPOSE(r) fc_tr8_pd(r)
#define FC_NAME fc_f64_transpose_8x8__avx512
#include "transpose-avx512.h"
