/* gemm, f64, portable: 4 rows x 8 columns (the fallback on any CPU). */
#define FC_T double
#define FC_MR 4
#define FC_NR 8
#define FC_NAME fc_f64_gemm_4x8__scalar
#include "gemm-scalar.h"
