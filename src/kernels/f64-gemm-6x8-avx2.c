/* gemm, f64, avx2: 6 rows x 8 columns (12 vector accumulators). */
#define FC_T double
#define FC_F64 1
#define FC_MR 6
#define FC_NV 2
#define FC_NAME fc_f64_gemm_6x8__avx2
#include "igemm-avx2.h"
#include "gemm-simd.h"
