/* dwgradwk, f32, 3 output channels x 3 taps, avx2. */
#define FC_T float
#define FC_SIMD 2
#define FC_KR 3
#define FC_TR 3
#define FC_NAME fc_f32_dwgradwk_3x3__avx2
#include "dwgradwk-simd.h"
