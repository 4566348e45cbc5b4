/* gemm, f64, avx512: 6 rows x 32 columns (24 vector accumulators). */
#define FC_T double
#define FC_F64 1
#define FC_MR 6
#define FC_NV 4
#define FC_NAME fc_f64_gemm_6x32__avx512
#include "igemm-avx512.h"
#include "gemm-simd.h"
