/* dwgradx, f32, 4 vectors per stride-1 step, avx512. */
#define FC_T float
#define FC_SIMD 3
#define FC_NU 4
#define FC_NAME fc_f32_dwgradx_nchw_4x16__avx512
#include "dwgradx-simd.h"
