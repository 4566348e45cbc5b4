/* fc_f32_smallc_8x32__avx512: see smallc.h (template) and its *-kernels.h (contract). */
#define FC_T float
#define FC_SIMD 3
#define FC_SC_KB 8
#define FC_SC_U 2
#define FC_NAME fc_f32_smallc_8x32__avx512
#include "smallc.h"
