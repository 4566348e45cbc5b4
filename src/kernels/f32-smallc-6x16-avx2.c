/* fc_f32_smallc_6x16__avx2: see smallc.h (template) and its *-kernels.h (contract). */
#define FC_T float
#define FC_SIMD 2
#define FC_SC_KB 6
#define FC_SC_U 2
#define FC_NAME fc_f32_smallc_6x16__avx2
#include "smallc.h"
