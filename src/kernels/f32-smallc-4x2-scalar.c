/* fc_f32_smallc_4x2__scalar: see smallc.h (template) and its *-kernels.h (contract). */
#define FC_T float
#define FC_SIMD 0
#define FC_SC_KB 4
#define FC_SC_U 2
#define FC_NAME fc_f32_smallc_4x2__scalar
#include "smallc.h"
