/* fc_f64_dwconv_nhwc_8x8__avx2: see dwconv-nhwc.h (template) and its *-kernels.h (contract). */
#define FC_T double
#define FC_T_IS_DOUBLE 1
#define FC_SIMD 2
#define FC_NAME fc_f64_dwconv_nhwc_8x8__avx2
#include "dwconv-nhwc.h"
