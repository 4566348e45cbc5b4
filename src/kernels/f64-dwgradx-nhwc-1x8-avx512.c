/* dwgradx_nhwc, f64, 3x3 stride 2, one vector of 8 lanes, avx512. */
#define FC_T double
#define FC_T_IS_DOUBLE 1
#define FC_SIMD 3
#define FC_NAME fc_f64_dwgradx_nhwc_1x8__avx512
#include "dwgradx-nhwc-simd.h"
