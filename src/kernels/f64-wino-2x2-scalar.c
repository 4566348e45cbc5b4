/* fc_f64_wino_2x2__scalar: Winograd F(2x2, 3x3) transforms, scalar build of winograd-simd.h (contract in winograd.h). */
#define FC_T double
#define FC_T_IS_DOUBLE 1
#define FC_WINO_M 2
#define FC_SIMD 0
#define FC_TABLE_TYPE fc_f64_wino_kernels
#define FC_TABLE_FN fc_f64_wino_2x2__scalar
#include "winograd-simd.h"
