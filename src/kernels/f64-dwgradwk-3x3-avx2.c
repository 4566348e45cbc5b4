/* dwgradwk, f64, 3 output channels x 3 taps, avx2. */
#define FC_T double
#define FC_T_IS_DOUBLE 1
#define FC_SIMD 2
#define FC_KR 3
#define FC_TR 3
#define FC_NAME fc_f64_dwgradwk_3x3__avx2
#include "dwgradwk-simd.h"
