/* fc_f64_smallc_kvec_4x4__scalar: see smallc-kvec.h (template) and smallc-kernels.h (contract). */
#define FC_T double
#define FC_T_IS_DOUBLE 1
#define FC_SIMD 0
#define FC_NAME fc_f64_smallc_kvec_4x4__scalar
#include "smallc-kvec.h"
