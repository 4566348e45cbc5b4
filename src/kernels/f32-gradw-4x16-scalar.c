/* Portable gradw, float32, 4 output channels x 16 input columns: the fallback on any CPU. */
#define FC_T float
#define FC_MR 4
#define FC_NR 16
#define FC_NAME fc_f32_gradw_4x16__scalar
#include "gradw-scalar.h"
