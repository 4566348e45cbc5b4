/* fc_f64_smallc_4x2__scalar: see smallc.h (template) and its *-kernels.h (contract). */
#define FC_T double
#define FC_T_IS_DOUBLE 1
#define FC_SIMD 0
#define FC_SC_KB 4
#define FC_SC_U 2
#define FC_NAME fc_f64_smallc_4x2__scalar
#include "smallc.h"
