/* fc_f64_smallc_8x16__avx512: see smallc.h (template) and its *-kernels.h (contract). */
#define FC_T double
#define FC_T_IS_DOUBLE 1
#define FC_SIMD 3
#define FC_SC_KB 8
#define FC_SC_U 2
#define FC_NAME fc_f64_smallc_8x16__avx512
#include "smallc.h"
