/* conv2d forward, Winograd path: float32 and float64 drivers from one
 * template (winograd-template.h). */
#include "winograd.h"
#include "kernels/gemm.h"
#include "kernels/transpose.h"
#include "kernels/winograd.h"
#include "kernels/registry.h"
#include "workspace.h"
#include "steal.h"

int fc_wino_conv2d_applicable(const fc_conv_geom *g) {
    return fc_conv_geom_ok(g) && g->KH == 3 && g->KW == 3 && g->SH == 1 && g->SW == 1 &&
           g->G == 1;
}

#define FC_T float
#define FC_DT "f32"
#define FC_GEMM_FN fc_f32_gemm_fn
#define FC_TR_FN fc_f32_transpose_fn
#define FC_WINO_TABLE fc_f32_wino_kernels
#define FC_WINO_TABLE_FN fc_f32_wino_table_fn
#define FC_SFX(name) name##_f32
#include "winograd-template.h"
#undef FC_T
#undef FC_DT
#undef FC_GEMM_FN
#undef FC_TR_FN
#undef FC_WINO_TABLE
#undef FC_WINO_TABLE_FN
#undef FC_SFX

#define FC_T double
#define FC_DT "f64"
#define FC_GEMM_FN fc_f64_gemm_fn
#define FC_TR_FN fc_f64_transpose_fn
#define FC_WINO_TABLE fc_f64_wino_kernels
#define FC_WINO_TABLE_FN fc_f64_wino_table_fn
#define FC_SFX(name) name##_f64
#include "winograd-template.h"
#undef FC_T
#undef FC_DT
#undef FC_GEMM_FN
#undef FC_TR_FN
#undef FC_WINO_TABLE
#undef FC_WINO_TABLE_FN
#undef FC_SFX
