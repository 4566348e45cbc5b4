/* dwgradx, f32, 4 vectors per stride-1 step, avx2. */
#define FC_T float
#define FC_SIMD 2
#define FC_NU 4
#define FC_NAME fc_f32_dwgradx_nchw_4x8__avx2
#include "dwgradx-simd.h"
