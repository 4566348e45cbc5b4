/* gemm, f64, avx512: 24 rows x 8 columns (24 vector accumulators). */
#define FC_T double
#define FC_F64 1
#define FC_MR 24
#define FC_NV 1
#define FC_NAME fc_f64_gemm_24x8__avx512
#include "igemm-avx512.h"
#include "gemm-simd.h"
