/* Portable gradx, float, 1 input channel(s) x 8 pixels: the fallback on any CPU. */
#define FC_T float
#define FC_MR 1
#define FC_NV 8
#define FC_NAME fc_f32_gradx_1x8__scalar
#define FC_VEC float
#define FC_VL 1
#define FC_LOAD(p) (*(p))
#define FC_STORE(p, v) (*(p) = (v))
#define FC_SET1(x) (x)
#define FC_ZERO() ((float)0)
#define FC_FMA(a, b, c) ((a) * (b) + (c))
#include "gradx-simd.h"
