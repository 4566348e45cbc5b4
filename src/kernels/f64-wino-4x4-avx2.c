/* fc_f64_wino_4x4__avx2: Winograd F(4x4, 3x3) transforms, avx2 build of winograd-simd.h (contract in winograd.h). */
#define FC_T double
#define FC_T_IS_DOUBLE 1
#define FC_WINO_M 4
#define FC_SIMD 2
#define FC_TABLE_TYPE fc_f64_wino_kernels
#define FC_TABLE_FN fc_f64_wino_4x4__avx2
#include "winograd-simd.h"
