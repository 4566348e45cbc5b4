/* dwgradw, f32, 9 taps x 32 channels (2 vectors), avx512. */
#define FC_T float
#define FC_SIMD 3
#define FC_MR 9
#define FC_NV 2
#define FC_NAME fc_f32_dwgradw_9x32__avx512
#include "dwgradw-simd.h"
