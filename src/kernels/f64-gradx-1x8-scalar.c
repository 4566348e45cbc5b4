/* Portable gradx, double, 1 input channel(s) x 8 pixels: the fallback on any CPU. */
#define FC_T double
#define FC_MR 1
#define FC_NV 8
#define FC_NAME fc_f64_gradx_1x8__scalar
#define FC_VEC double
#define FC_VL 1
#define FC_LOAD(p) (*(p))
#define FC_STORE(p, v) (*(p) = (v))
#define FC_SET1(x) (x)
#define FC_ZERO() ((double)0)
#define FC_FMA(a, b, c) ((a) * (b) + (c))
#include "gradx-simd.h"
