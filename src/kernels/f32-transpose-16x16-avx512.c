/* transpose, float32, AVX-512: 16x16 blocks in registers (contract in
 * transpose.h). Each block writes 16 destination rows a full vector each
 * (64 bytes, a cache line when aligned), so the destination lines are filled
 * whole as the blocks sweep the columns of 16 source rows; the 4x4 SSE2
 * blocks wrote 16 bytes a line and needed column blocking to keep the lines
 * in L1 (1 thread, NCHW 3x3 64 @224: the layout changes were a fifth of the
 * layer's time). Edge blocks use masked loads and stores. */
#include "transpose.h"
#include "tr16-avx512.h"

void fc_f32_transpose_16x16__avx512(const float *src, size_t ss, float *dst, size_t ds,
                                    size_t rows, size_t cols) {
    for (size_t i0 = 0; i0 < rows; i0 += 16) {
        const size_t ni = rows - i0 < 16 ? rows - i0 : 16;
        const float *s = src + i0 * ss;
        float *d = dst + i0;
        size_t j0 = 0;
        if (ni == 16)
            for (; j0 + 16 <= cols; j0 += 16) fc_tr16_block(1, s + j0, ss, d + j0 * ds, ds, 16, 16);
        for (; j0 < cols; j0 += 16)
            fc_tr16_block(0, s + j0, ss, d + j0 * ds, ds, ni, cols - j0 < 16 ? cols - j0 : 16);
    }
}
