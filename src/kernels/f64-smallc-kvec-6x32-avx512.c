/* fc_f64_smallc_kvec_6x32__avx512: see smallc-kvec.h (template) and smallc-kernels.h (contract). */
#define FC_T double
#define FC_T_IS_DOUBLE 1
#define FC_SIMD 3
#define FC_NAME fc_f64_smallc_kvec_6x32__avx512
#include "smallc-kvec.h"
