/* dwgradw_split2, f64, avx2. */
#define FC_T double
#define FC_NAME fc_f64_dwgradw_split2__avx2
#include "dwgradw-split2.h"
