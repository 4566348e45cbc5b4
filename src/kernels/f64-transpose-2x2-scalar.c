/* transpose, float64, portable C (SSE2 2x2 blocks on x86-64): see transpose-scalar.h. */
#define FC_T double
#define FC_IS_F64 1
#define FC_NAME fc_f64_transpose_2x2__scalar
#include "transpose-scalar.h"
