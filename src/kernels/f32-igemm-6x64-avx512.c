/* igemm, float32, AVX-512: 6 pixels x 64 channels (24 zmm accumulators). */
#define FC_T float
#define FC_F64 0
#define FC_MR 6
#define FC_NV 4
#define FC_NAME fc_f32_igemm_6x64__avx512
#include "igemm-avx512.h"
#include "igemm-simd.h"
