/* Portable igemm, float64, 4 pixels x 8 channels: the fallback on any CPU. */
#define FC_T double
#define FC_MR 4
#define FC_NR 8
#define FC_NAME fc_f64_igemm_4x8__scalar
#include "igemm-scalar.h"
