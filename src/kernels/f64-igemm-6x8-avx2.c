/* igemm, float64, AVX2+FMA: 6 pixels x 8 channels (12 ymm accumulators). */
#define FC_T double
#define FC_F64 1
#define FC_MR 6
#define FC_NV 2
#define FC_NAME fc_f64_igemm_6x8__avx2
#include "igemm-avx2.h"
#include "igemm-simd.h"
