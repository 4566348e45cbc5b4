/* dwgradw, f64, 9 taps x 16 channels (2 vectors), avx512. */
#define FC_T double
#define FC_T_IS_DOUBLE 1
#define FC_SIMD 3
#define FC_MR 9
#define FC_NV 2
#define FC_NAME fc_f64_dwgradw_9x16__avx512
#include "dwgradw-simd.h"
