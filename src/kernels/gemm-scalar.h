/* Template of the portable gemm micro-kernel (contract in gemm.h).
 * Include with FC_T (element type), FC_MR, FC_NR and FC_NAME defined. */
#include "gemm.h"

void FC_NAME(size_t mr, size_t nr, size_t kc, const FC_T *a, size_t lda, const FC_T *b,
             size_t ldb, const FC_T *pf, const FC_T *bias, FC_T *y, size_t ys, uint32_t flags) {
    FC_T acc[FC_MR][FC_NR];
    (void)pf;
    const int rows = (flags & FC_GEMM_BIAS_ROWS) != 0;
    for (size_t m = 0; m < FC_MR; m++)
        for (size_t n = 0; n < FC_NR; n++)
            acc[m][n] = ((flags & FC_FLAG_ACCUMULATE) || bias == NULL) ? (FC_T)0
                        : rows                                          ? bias[m]
                                                                        : bias[n];
    for (size_t c = 0; c < kc; c++) {
        const FC_T *bc = b + c * ldb;
        for (size_t m = 0; m < FC_MR; m++) {
            const FC_T x = a[m * lda + c];
            for (size_t n = 0; n < nr; n++) acc[m][n] += x * bc[n];
        }
    }
#include "tile-store-scalar.h"
}
