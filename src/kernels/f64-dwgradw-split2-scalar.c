/* dwgradw_split2, f64, scalar. */
#define FC_T double
#define FC_NAME fc_f64_dwgradw_split2__scalar
#include "dwgradw-split2.h"
