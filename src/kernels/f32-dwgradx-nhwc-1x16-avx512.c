/* dwgradx_nhwc, f32, 3x3 stride 2, one vector of 16 lanes, avx512. */
#define FC_T float
#define FC_SIMD 3
#define FC_NAME fc_f32_dwgradx_nhwc_1x16__avx512
#include "dwgradx-nhwc-simd.h"
