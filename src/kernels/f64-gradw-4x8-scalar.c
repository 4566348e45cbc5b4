/* Portable gradw, float64, 4 output channels x 8 input columns: the fallback on any CPU. */
#define FC_T double
#define FC_MR 4
#define FC_NR 8
#define FC_NAME fc_f64_gradw_4x8__scalar
#include "gradw-scalar.h"
