/* dwgradx_nhwc, f64, 3x3 stride 2, one vector of 1 lanes, scalar. */
#define FC_T double
#define FC_T_IS_DOUBLE 1
#define FC_SIMD 0
#define FC_NAME fc_f64_dwgradx_nhwc_1x1__scalar
#include "dwgradx-nhwc-simd.h"
