/* dwgradwk, f64, 2 output channels x 2 taps, scalar. */
#define FC_T double
#define FC_T_IS_DOUBLE 1
#define FC_SIMD 0
#define FC_KR 2
#define FC_TR 2
#define FC_NAME fc_f64_dwgradwk_2x2__scalar
#include "dwgradwk-simd.h"
