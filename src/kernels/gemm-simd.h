/* Template of the SIMD gemm micro-kernels (contract in gemm.h): MR rows x NV
 * vectors of columns in registers, one b row of NV vectors loaded per c,
 * each a value broadcast. Include from ONE ISA-specific translation unit with
 * the macros igemm-simd.h lists (FC_T, FC_V, FC_L, FC_MR, FC_NV, FC_NAME, ...).
 *
 * Rows are addressed from one base per 6 rows plus a byte offset lda*{1,2,4}
 * or 3*lda, 5*lda (one x86 addressing mode each), so 24 rows live in 4 base
 * registers and 3 stride registers instead of 24 pointers that gcc would
 * spill to the stack. The next tile's b rows are prefetched one row per c:
 * NCHW reads kc planes, more streams than the hardware prefetcher follows,
 * and prefetching them all at once stalls on the fill buffers. */
#include "gemm.h"

#define FC_NR (FC_MR * 0 + FC_NV * FC_L)
#define FC_NB ((FC_MR + 5) / 6)
#define FC_PFL ((int)(FC_NR * sizeof(FC_T) + 63) / 64) /* cache lines of a b row */
#define FC_AOFF(r) \
    ((r) == 0 ? 0 : (r) == 1 ? l1 : (r) == 2 ? 2 * l1 : (r) == 3 ? l3 : (r) == 4 ? 4 * l1 : l5)
#define FC_AROW(m) (*(const FC_T *)(ab[(m) / 6] + FC_AOFF((m) % 6)))
/* the c loop; LOADB(v) loads vector v of the current b row */
#define FC_GEMM_LOOP(LOADB)                                                           \
    for (size_t c = 0; c < kc; c++) {                                                 \
        FC_V wv[FC_NV];                                                               \
        _Pragma("GCC unroll 8") for (int v = 0; v < FC_NV; v++) wv[v] = LOADB(v);     \
        b += ldb;                                                                     \
        _Pragma("GCC unroll 8") for (int l = 0; l < FC_PFL; l++)                      \
            _mm_prefetch((const char *)pf + 64 * l, _MM_HINT_T0);                     \
        pf += ldb;                                                                    \
        _Pragma("GCC unroll 32") for (int m = 0; m < FC_MR; m++) {                    \
            const FC_V xb = FC_VSET1(FC_AROW(m));                                     \
            _Pragma("GCC unroll 8") for (int v = 0; v < FC_NV; v++)                   \
                acc[m][v] = FC_VFMA(xb, wv[v], acc[m][v]);                            \
        }                                                                             \
        _Pragma("GCC unroll 8") for (int j = 0; j < FC_NB; j++) ab[j] += sizeof(FC_T); \
    }

void FC_NAME(size_t mr, size_t nr, size_t kc, const FC_T *a, size_t lda, const FC_T *b,
             size_t ldb, const FC_T *pf, const FC_T *bias, FC_T *y, size_t ys, uint32_t flags) {
    FC_V acc[FC_MR][FC_NV];
    if ((flags & FC_FLAG_ACCUMULATE) || bias == NULL) {
#pragma GCC unroll 32
        for (int m = 0; m < FC_MR; m++)
#pragma GCC unroll 8
            for (int v = 0; v < FC_NV; v++) acc[m][v] = FC_VZERO();
    } else if (flags & FC_GEMM_BIAS_ROWS) {
#pragma GCC unroll 32
        for (int m = 0; m < FC_MR; m++) {
            const FC_V bm = FC_VSET1(bias[m]);
#pragma GCC unroll 8
            for (int v = 0; v < FC_NV; v++) acc[m][v] = bm;
        }
    } else {
#pragma GCC unroll 8
        for (int v = 0; v < FC_NV; v++) {
            const FC_V bv = FC_VLOAD(bias + v * FC_L);
#pragma GCC unroll 32
            for (int m = 0; m < FC_MR; m++) acc[m][v] = bv;
        }
    }
    const ptrdiff_t l1 = (ptrdiff_t)(lda * sizeof(FC_T)), l3 = 3 * l1, l5 = 5 * l1;
    const char *ab[FC_NB];
#pragma GCC unroll 8
    for (int j = 0; j < FC_NB; j++) ab[j] = (const char *)a + 6 * j * l1;
    if (nr == FC_NR) {
#define FC_LOADB_FULL(v) FC_VLOAD(b + (v) * FC_L)
        FC_GEMM_LOOP(FC_LOADB_FULL)
#undef FC_LOADB_FULL
    } else {
        /* columns past nr are not read: b may end at the last valid one */
        const int nfull = (int)(nr / FC_L), rem = (int)(nr % FC_L);
#define FC_LOADB_PART(v)                                       \
    ((v) < nfull ? FC_VLOAD(b + (v) * FC_L)                    \
                 : ((v) == nfull && rem ? FC_VLOAD_PART(b + (v) * FC_L, rem) : FC_VZERO()))
        FC_GEMM_LOOP(FC_LOADB_PART)
#undef FC_LOADB_PART
    }
#include "tile-store.h"
}
#undef FC_NR
#undef FC_NB
#undef FC_PFL
#undef FC_AOFF
#undef FC_AROW
#undef FC_GEMM_LOOP
