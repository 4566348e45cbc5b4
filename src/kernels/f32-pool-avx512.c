/* Pooling micro-kernels, float, avx512 build of pool-template.h. */
#include <math.h>
#define FC_T float
#define FC_TABLE_TYPE fc_f32_pool_ukernels
#define FC_TABLE_FN fc_f32_pool__avx512
#include "pool-template.h"
