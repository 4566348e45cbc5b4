/* dwgradwk, f64, 6 output channels x 4 taps, avx512. */
#define FC_T double
#define FC_T_IS_DOUBLE 1
#define FC_SIMD 3
#define FC_KR 6
#define FC_TR 4
#define FC_NAME fc_f64_dwgradwk_6x4__avx512
#include "dwgradwk-simd.h"
