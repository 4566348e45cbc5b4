/* gemm, f32, avx512: 6 rows x 64 columns (24 vector accumulators). */
#define FC_T float
#define FC_F64 0
#define FC_MR 6
#define FC_NV 4
#define FC_NAME fc_f32_gemm_6x64__avx512
#include "igemm-avx512.h"
#include "gemm-simd.h"
