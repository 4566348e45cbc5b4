/* dwgradw_split2, f32, avx2. */
#define FC_T float
#define FC_NAME fc_f32_dwgradw_split2__avx2
#include "dwgradw-split2.h"
