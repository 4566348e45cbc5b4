/* dwgradw, f64, 9 taps x 8 channels (2 vectors), avx2. */
#define FC_T double
#define FC_T_IS_DOUBLE 1
#define FC_SIMD 2
#define FC_MR 9
#define FC_NV 2
#define FC_NAME fc_f64_dwgradw_9x8__avx2
#include "dwgradw-simd.h"
