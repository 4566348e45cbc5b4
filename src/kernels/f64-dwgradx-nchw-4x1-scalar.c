/* dwgradx, f64, 4 vectors per stride-1 step, scalar. */
#define FC_T double
#define FC_T_IS_DOUBLE 1
#define FC_SIMD 0
#define FC_NU 4
#define FC_NAME fc_f64_dwgradx_nchw_4x1__scalar
#include "dwgradx-simd.h"
