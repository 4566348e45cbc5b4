/* fc_f32_smallc_kvec_6x16__avx2: see smallc-kvec.h (template) and smallc-kernels.h (contract). */
#define FC_T float
#define FC_SIMD 2
#define FC_NAME fc_f32_smallc_kvec_6x16__avx2
#include "smallc-kvec.h"
