/* gemm, f64, avx512: 12 rows x 16 columns (24 vector accumulators). */
#define FC_T double
#define FC_F64 1
#define FC_MR 12
#define FC_NV 2
#define FC_NAME fc_f64_gemm_12x16__avx512
#include "igemm-avx512.h"
#include "gemm-simd.h"
