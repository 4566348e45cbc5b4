/* fc_f32_dwconv_nhwc_8x2__scalar: see dwconv-nhwc.h (template) and its *-kernels.h (contract). */
#define FC_T float
#define FC_SIMD 0
#define FC_NAME fc_f32_dwconv_nhwc_8x2__scalar
#include "dwconv-nhwc.h"
