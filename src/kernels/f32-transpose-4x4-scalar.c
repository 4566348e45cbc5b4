/* transpose, float32, portable C (SSE2 4x4 blocks on x86-64): see transpose-scalar.h. */
#define FC_T float
#define FC_IS_F64 0
#define FC_NAME fc_f32_transpose_4x4__scalar
#include "transpose-scalar.h"
