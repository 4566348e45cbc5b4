/* Portable igemm, float32, 4 pixels x 16 channels: the fallback on any CPU. */
#define FC_T float
#define FC_MR 4
#define FC_NR 16
#define FC_NAME fc_f32_igemm_4x16__scalar
#include "igemm-scalar.h"
