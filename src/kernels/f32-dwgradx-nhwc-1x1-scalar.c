/* dwgradx_nhwc, f32, 3x3 stride 2, one vector of 1 lanes, scalar. */
#define FC_T float
#define FC_SIMD 0
#define FC_NAME fc_f32_dwgradx_nhwc_1x1__scalar
#include "dwgradx-nhwc-simd.h"
