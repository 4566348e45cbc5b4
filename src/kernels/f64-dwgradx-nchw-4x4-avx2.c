/* dwgradx, f64, 4 vectors per stride-1 step, avx2. */
#define FC_T double
#define FC_T_IS_DOUBLE 1
#define FC_SIMD 2
#define FC_NU 4
#define FC_NAME fc_f64_dwgradx_nchw_4x4__avx2
#include "dwgradx-simd.h"
