/* igemm, float32, AVX2+FMA: 6 pixels x 16 channels (12 ymm accumulators). */
#define FC_T float
#define FC_F64 0
#define FC_MR 6
#define FC_NV 2
#define FC_NAME fc_f32_igemm_6x16__avx2
#include "igemm-avx2.h"
#include "igemm-simd.h"
