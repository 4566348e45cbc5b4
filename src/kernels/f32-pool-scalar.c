/* Pooling micro-kernels, float, scalar build of pool-template.h. */
#include <math.h>
#define FC_T float
#define FC_TABLE_TYPE fc_f32_pool_ukernels
#define FC_TABLE_FN fc_f32_pool__scalar
#include "pool-template.h"
