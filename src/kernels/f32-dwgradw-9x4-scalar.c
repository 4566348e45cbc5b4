/* Portable dwgradw, float, 9 taps x 4 channels: the fallback on any CPU. */
#define FC_T float
#define FC_MR 9
#define FC_NV 4
#define FC_NAME fc_f32_dwgradw_9x4__scalar
#define FC_VEC float
#define FC_VL 1
#define FC_LOAD(p) (*(p))
#define FC_STORE(p, v) (*(p) = (v))
#define FC_FMA(a, b, c) ((a) * (b) + (c))
#include "dwgradw-simd.h"
