/* dwgradwk, f32, 2 output channels x 2 taps, scalar. */
#define FC_T float
#define FC_SIMD 0
#define FC_KR 2
#define FC_TR 2
#define FC_NAME fc_f32_dwgradwk_2x2__scalar
#include "dwgradwk-simd.h"
