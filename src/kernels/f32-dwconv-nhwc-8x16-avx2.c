/* fc_f32_dwconv_nhwc_8x16__avx2: see dwconv-nhwc.h (template) and its *-kernels.h (contract). */
#define FC_T float
#define FC_SIMD 2
#define FC_NAME fc_f32_dwconv_nhwc_8x16__avx2
#include "dwconv-nhwc.h"
