/* fc_f32_dwconv_nchw_1x32__avx2: see dwconv-nchw.h (template) and its *-kernels.h (contract). */
#define FC_T float
#define FC_SIMD 2
#define FC_NAME fc_f32_dwconv_nchw_1x32__avx2
#include "dwconv-nchw.h"
