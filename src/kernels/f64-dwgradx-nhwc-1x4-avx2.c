/* dwgradx_nhwc, f64, 3x3 stride 2, one vector of 4 lanes, avx2. */
#define FC_T double
#define FC_T_IS_DOUBLE 1
#define FC_SIMD 2
#define FC_NAME fc_f64_dwgradx_nhwc_1x4__avx2
#include "dwgradx-nhwc-simd.h"
