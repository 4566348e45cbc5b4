/* fc_f64_smallc_kvec_6x8__avx2: see smallc-kvec.h (template) and smallc-kernels.h (contract). */
#define FC_T double
#define FC_T_IS_DOUBLE 1
#define FC_SIMD 2
#define FC_NAME fc_f64_smallc_kvec_6x8__avx2
#include "smallc-kvec.h"
