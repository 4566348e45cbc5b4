/* transpose, float32, AVX2: 8x8 blocks in registers (contract in transpose.h),
 * each writing 8 destination rows a full 32-byte vector each. Edge blocks go
 * element by element. As the portable kernel, columns go in passes of 64 so
 * that the destination lines a pass writes stay in L1. */
#include <immintrin.h>
#include "transpose.h"

/* d[j*ds + i] = s[i*ss + j] for an 8x8 block */
static inline __attribute__((always_inline)) void fc_tr8(const float *s, size_t ss, float *d,
                                                         size_t ds) {
    __m256 r[8], t[8];
#pragma GCC unroll 8
    for (int i = 0; i < 8; i++) r[i] = _mm256_loadu_ps(s + i * ss);
#pragma GCC unroll 4
    for (int i = 0; i < 4; i++) {
        t[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
#pragma GCC unroll 2
    for (int i = 0; i < 2; i++) {
        r[4 * i] = _mm256_shuffle_ps(t[4 * i], t[4 * i + 2], 0x44);
        r[4 * i + 1] = _mm256_shuffle_ps(t[4 * i], t[4 * i + 2], 0xEE);
        r[4 * i + 2] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0x44);
        r[4 * i + 3] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0xEE);
    }
#pragma GCC unroll 4
    for (int i = 0; i < 4; i++) {
        _mm256_storeu_ps(d + i * ds, _mm256_permute2f128_ps(r[i], r[i + 4], 0x20));
        _mm256_storeu_ps(d + (i + 4) * ds, _mm256_permute2f128_ps(r[i], r[i + 4], 0x31));
    }
}

void fc_f32_transpose_8x8__avx2(const float *src, size_t ss, float *dst, size_t ds, size_t rows,
                                size_t cols) {
    for (size_t j0 = 0; j0 < cols; j0 += 64) {
        const size_t j1 = cols - j0 < 64 ? cols : j0 + 64;
        size_t i0 = 0;
        for (; i0 + 8 <= rows; i0 += 8) {
            size_t j = j0;
            for (; j + 8 <= j1; j += 8) fc_tr8(src + i0 * ss + j, ss, dst + j * ds + i0, ds);
            for (; j < j1; j++)
                for (size_t i = i0; i < i0 + 8; i++) dst[j * ds + i] = src[i * ss + j];
        }
        for (size_t i = i0; i < rows; i++)
            for (size_t j = j0; j < j1; j++) dst[j * ds + i] = src[i * ss + j];
    }
}
