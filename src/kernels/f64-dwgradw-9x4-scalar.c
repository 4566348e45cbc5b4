/* dwgradw, f64, 9 taps x 4 channels (4 vectors), scalar. */
#define FC_T double
#define FC_T_IS_DOUBLE 1
#define FC_SIMD 0
#define FC_MR 9
#define FC_NV 4
#define FC_NAME fc_f64_dwgradw_9x4__scalar
#include "dwgradw-simd.h"
