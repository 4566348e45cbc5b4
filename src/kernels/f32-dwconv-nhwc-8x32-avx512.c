/* fc_f32_dwconv_nhwc_8x32__avx512: see dwconv-nhwc.h (template) and its *-kernels.h (contract). */
#define FC_T float
#define FC_SIMD 3
#define FC_NAME fc_f32_dwconv_nhwc_8x32__avx512
#include "dwconv-nhwc.h"
