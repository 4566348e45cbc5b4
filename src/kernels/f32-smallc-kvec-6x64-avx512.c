/* fc_f32_smallc_kvec_6x64__avx512: see smallc-kvec.h (template) and smallc-kernels.h (contract). */
#define FC_T float
#define FC_SIMD 3
#define FC_NAME fc_f32_smallc_kvec_6x64__avx512
#include "smallc-kvec.h"
