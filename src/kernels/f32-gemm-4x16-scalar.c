/* gemm, f32, portable: 4 rows x 16 columns (the fallback on any CPU). */
#define FC_T float
#define FC_MR 4
#define FC_NR 16
#define FC_NAME fc_f32_gemm_4x16__scalar
#include "gemm-scalar.h"
