/* gemm, f32, avx512: 24 rows x 16 columns (24 vector accumulators). */
#define FC_T float
#define FC_F64 0
#define FC_MR 24
#define FC_NV 1
#define FC_NAME fc_f32_gemm_24x16__avx512
#include "igemm-avx512.h"
#include "gemm-simd.h"
