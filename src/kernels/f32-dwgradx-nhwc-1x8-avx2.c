/* dwgradx_nhwc, f32, 3x3 stride 2, one vector of 8 lanes, avx2. */
#define FC_T float
#define FC_SIMD 2
#define FC_NAME fc_f32_dwgradx_nhwc_1x8__avx2
#include "dwgradx-nhwc-simd.h"
