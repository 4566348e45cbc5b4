/* dwgradw_split2 kernels: the even and odd elements of a row apart,
 *
 *   d0[j] = s[2j], d1[j] = s[2j + 1] for j < n,
 *
 * the stride-2 column phases of an NCHW input row for fc_gw_planes (its
 * generic copy ran 4 lanes wide and took most of a stride-2 depthwise grad
 * weight's time). One C loop; the ISA flags of each file's build let the
 * compiler run it a vector wide. Include with FC_T and FC_NAME. */
#include <stddef.h>

void FC_NAME(size_t n, const FC_T *restrict s, FC_T *restrict d0, FC_T *restrict d1) {
    for (size_t j = 0; j < n; j++) {
        d0[j] = s[2 * j];
        d1[j] = s[2 * j + 1];
    }
}
