/* Pooling drivers, float64 (pool-driver.h with double). */
#include <math.h>
#include "pool.h"
#include "kernels/pool-ukernels.h"
#define FC_T double
#define FC_DT "f64"
#define FC_TABLE fc_f64_pool_ukernels
#define FC_FN(name) name##_f64
#include "pool-driver.h"
