/* dwgradw_split2, f32, scalar. */
#define FC_T float
#define FC_NAME fc_f32_dwgradw_split2__scalar
#include "dwgradw-split2.h"
