/* dwgradw, f32, 9 taps x 16 channels (2 vectors), avx2. */
#define FC_T float
#define FC_SIMD 2
#define FC_MR 9
#define FC_NV 2
#define FC_NAME fc_f32_dwgradw_9x16__avx2
#include "dwgradw-simd.h"
