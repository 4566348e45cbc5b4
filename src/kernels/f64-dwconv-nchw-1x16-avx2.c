/* fc_f64_dwconv_nchw_1x16__avx2: see dwconv-nchw.h (template) and its *-kernels.h (contract). */
#define FC_T double
#define FC_T_IS_DOUBLE 1
#define FC_SIMD 2
#define FC_NAME fc_f64_dwconv_nchw_1x16__avx2
#include "dwconv-nchw.h"
