/* fc_f32_smallc_kvec_4x4__scalar: see smallc-kvec.h (template) and smallc-kernels.h (contract). */
#define FC_T float
#define FC_SIMD 0
#define FC_NAME fc_f32_smallc_kvec_4x4__scalar
#include "smallc-kvec.h"
