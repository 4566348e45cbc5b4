/* Template of the AVX-512 transpose kernels (contract in transpose.h): FC_B x
 * FC_B blocks transposed in registers, each writing FC_B destination rows a
 * full vector each (64 bytes, a cache line when aligned), so the destination
 * lines are filled whole as the blocks sweep the columns of FC_B source rows
 * (4x4 SSE blocks wrote 16 bytes a line and needed column blocking to keep
 * the lines in L1). Edge blocks use masked loads and stores.
 *
 * Include from ONE AVX-512 translation unit with defined: FC_T, FC_B (lanes),
 * FC_V (vector type), FC_MASK (mask type), FC_VLOAD(p), FC_VLOADZ(m, p)
 * (lanes outside m zero), FC_VZERO(), FC_VSTORE(p, v), FC_VSTOREM(p, m, v),
 * FC_VTRANSPOSE(r) (in-place register transpose of r[FC_B]) and FC_NAME. */
#include <immintrin.h>
#include "transpose.h"

/* d[j*ds + i] = s[i*ss + j] for i < ni, j < nj (<= FC_B), masked at the
 * edges unless `full` (ni = nj = FC_B) */
static inline __attribute__((always_inline)) void
fc_tr_block(int full, const FC_T *s, size_t ss, FC_T *d, size_t ds, size_t ni, size_t nj) {
    const FC_MASK mi = (FC_MASK)((1u << ni) - 1u), mj = (FC_MASK)((1u << nj) - 1u);
    FC_V r[FC_B];
#pragma GCC unroll 16
    for (int i = 0; i < FC_B; i++)
        r[i] = full ? FC_VLOAD(s + i * ss)
                    : ((size_t)i < ni ? FC_VLOADZ(mj, s + i * ss) : FC_VZERO());
    FC_VTRANSPOSE(r);
#pragma GCC unroll 16
    for (int j = 0; j < FC_B; j++) {
        if (full) FC_VSTORE(d + j * ds, r[j]);
        else if ((size_t)j < nj) FC_VSTOREM(d + j * ds, mi, r[j]);
    }
}

void FC_NAME(const FC_T *src, size_t ss, FC_T *dst, size_t ds, size_t rows, size_t cols) {
    for (size_t i0 = 0; i0 < rows; i0 += FC_B) {
        const size_t ni = rows - i0 < FC_B ? rows - i0 : FC_B;
        const FC_T *s = src + i0 * ss;
        FC_T *d = dst + i0;
        size_t j0 = 0;
        if (ni == FC_B)
            for (; j0 + FC_B <= cols; j0 += FC_B)
                fc_tr_block(1, s + j0, ss, d + j0 * ds, ds, FC_B, FC_B);
        for (; j0 < cols; j0 += FC_B)
            fc_tr_block(0, s + j0, ss, d + j0 * ds, ds, ni, cols - j0 < FC_B ? cols - j0 : FC_B);
    }
}
