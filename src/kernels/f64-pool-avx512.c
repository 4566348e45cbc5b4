/* Pooling micro-kernels, double, avx512 build of pool-template.h. */
#include <math.h>
#define FC_T double
#define FC_TABLE_TYPE fc_f64_pool_ukernels
#define FC_TABLE_FN fc_f64_pool__avx512
#include "pool-template.h"
