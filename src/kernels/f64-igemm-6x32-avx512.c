/* igemm, float64, AVX-512: 6 pixels x 32 channels (24 zmm accumulators). */
#define FC_T double
#define FC_F64 1
#define FC_MR 6
#define FC_NV 4
#define FC_NAME fc_f64_igemm_6x32__avx512
#include "igemm-avx512.h"
#include "igemm-simd.h"
