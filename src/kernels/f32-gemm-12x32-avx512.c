/* gemm, f32, avx512: 12 rows x 32 columns (24 vector accumulators). */
#define FC_T float
#define FC_F64 0
#define FC_MR 12
#define FC_NV 2
#define FC_NAME fc_f32_gemm_12x32__avx512
#include "igemm-avx512.h"
#include "gemm-simd.h"
