/* Template of the portable transpose kernels (contract in transpose.h).
 * Include with FC_T, FC_IS_F64 (0/1) and FC_NAME defined. Built for the
 * baseline ISA: on x86-64 blocks of 4x4 floats / 2x2 doubles go through SSE2
 * (part of the baseline); the rest, and other CPUs, element by element. */
#include "transpose.h"

#define FC_TR_CAT2(a, b) a##b
#define FC_TR_CAT(a, b) FC_TR_CAT2(a, b)
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* Columns per pass: the destination rows one pass writes (a few bytes into
 * each) stay in L1 across its sweep of the source rows. Sweeping a long row
 * (960-1024 channels) per 4 source rows wrote 16 bytes into each of that
 * many lines, more than L1 holds, and every pass fetched them again from L2
 * (the NHWC 1x1 weight and pixel panels spent a fifth of their layer's time
 * there). */
#define FC_TR_COLS 64

static void FC_TR_CAT(FC_NAME, _cols)(const FC_T *src, size_t ss, FC_T *dst, size_t ds,
                                   size_t rows, size_t cols) {
    size_t i0 = 0;
#if defined(__SSE2__)
#if FC_IS_F64
    for (; i0 + 2 <= rows; i0 += 2) {
        const FC_T *s0 = src + i0 * ss, *s1 = s0 + ss;
        size_t j = 0;
        for (; j + 2 <= cols; j += 2) {
            const __m128d a = _mm_loadu_pd(s0 + j), b = _mm_loadu_pd(s1 + j);
            _mm_storeu_pd(dst + j * ds + i0, _mm_unpacklo_pd(a, b));
            _mm_storeu_pd(dst + (j + 1) * ds + i0, _mm_unpackhi_pd(a, b));
        }
        for (; j < cols; j++) {
            dst[j * ds + i0] = s0[j];
            dst[j * ds + i0 + 1] = s1[j];
        }
    }
#else
    for (; i0 + 4 <= rows; i0 += 4) {
        const FC_T *s0 = src + i0 * ss;
        size_t j = 0;
        for (; j + 4 <= cols; j += 4) {
            __m128 r0 = _mm_loadu_ps(s0 + j), r1 = _mm_loadu_ps(s0 + ss + j);
            __m128 r2 = _mm_loadu_ps(s0 + 2 * ss + j), r3 = _mm_loadu_ps(s0 + 3 * ss + j);
            _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
            _mm_storeu_ps(dst + j * ds + i0, r0);
            _mm_storeu_ps(dst + (j + 1) * ds + i0, r1);
            _mm_storeu_ps(dst + (j + 2) * ds + i0, r2);
            _mm_storeu_ps(dst + (j + 3) * ds + i0, r3);
        }
        for (; j < cols; j++)
            for (size_t i = 0; i < 4; i++) dst[j * ds + i0 + i] = s0[i * ss + j];
    }
#endif
#endif
    for (size_t i = i0; i < rows; i++)
        for (size_t j = 0; j < cols; j++) dst[j * ds + i] = src[i * ss + j];
}

void FC_NAME(const FC_T *src, size_t ss, FC_T *dst, size_t ds, size_t rows, size_t cols) {
    for (size_t j0 = 0; j0 < cols; j0 += FC_TR_COLS)
        FC_TR_CAT(FC_NAME, _cols)(src + j0, ss, dst + j0 * ds, ds, rows,
                               cols - j0 < FC_TR_COLS ? cols - j0 : FC_TR_COLS);
}
#undef FC_TR_COLS
