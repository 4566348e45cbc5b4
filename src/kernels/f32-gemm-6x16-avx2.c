/* gemm, f32, avx2: 6 rows x 16 columns (12 vector accumulators). */
#define FC_T float
#define FC_F64 0
#define FC_MR 6
#define FC_NV 2
#define FC_NAME fc_f32_gemm_6x16__avx2
#include "igemm-avx2.h"
#include "gemm-simd.h"
