/* fc_f64_smallc_6x8__avx2: see smallc.h (template) and its *-kernels.h (contract). */
#define FC_T double
#define FC_T_IS_DOUBLE 1
#define FC_SIMD 2
#define FC_SC_KB 6
#define FC_SC_U 2
#define FC_NAME fc_f64_smallc_6x8__avx2
#include "smallc.h"
