/* Pooling drivers, float32 (pool-driver.h with float). */
#include <math.h>
#include "pool.h"
#include "kernels/pool-ukernels.h"
#define FC_T float
#define FC_DT "f32"
#define FC_TABLE fc_f32_pool_ukernels
#define FC_FN(name) name##_f32
#include "pool-driver.h"

/* one definition for both dtypes (pool.h) */
int64_t fc_pool_stream_min = 0;
