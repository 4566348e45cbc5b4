/* Template of the portable igemm micro-kernel (see igemm.h for the contract).
 * Include with FC_T (element type), FC_MR, FC_NR and FC_NAME defined. */
#include "igemm.h"

void FC_NAME(size_t mr, size_t nr, size_t kc, size_t ks, const FC_T *const *a,
             const FC_T *w, const FC_T *bias, FC_T *y, size_t ys, uint32_t flags) {
    FC_T acc[FC_MR][FC_NR];
    for (size_t m = 0; m < FC_MR; m++)
        for (size_t n = 0; n < FC_NR; n++)
            acc[m][n] = (flags & FC_FLAG_ACCUMULATE) ? (FC_T)0 : bias[n];
    for (size_t t = 0; t < ks; t++) {
        const FC_T *const *at = a + t * FC_MR;
        const FC_T *wt = w + t * kc * FC_NR;
        for (size_t c = 0; c < kc; c++) {
            const FC_T *wc = wt + c * FC_NR;
            for (size_t m = 0; m < FC_MR; m++) {
                const FC_T x = at[m][c];
                for (size_t n = 0; n < FC_NR; n++) acc[m][n] += x * wc[n];
            }
        }
    }
#include "tile-store-scalar.h"
}
