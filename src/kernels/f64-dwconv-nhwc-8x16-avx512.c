/* fc_f64_dwconv_nhwc_8x16__avx512: see dwconv-nhwc.h (template) and its *-kernels.h (contract). */
#define FC_T double
#define FC_T_IS_DOUBLE 1
#define FC_SIMD 3
#define FC_NAME fc_f64_dwconv_nhwc_8x16__avx512
#include "dwconv-nhwc.h"
