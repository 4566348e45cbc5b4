/* conv2d gradient drivers: one template (conv-grad-impl.h) instantiated per dtype. */
#include "conv-grad.h"
#include "kernels/registry.h"
#include "workspace.h"
#include "steal.h"
#include "kernels/igemm.h"
#include "kernels/gemm.h"
#include "kernels/transpose.h"
#include "kernels/gradw.h"
#include "kernels/gradx.h"
#include "kernels/dwgradw.h"
#include "kernels/dwgradx.h"
#include "kernels/dwconv-kernels.h"

#define FC_T float
#define FC_DT "f32"
#define FC_SFX _f32
#define FC_IGEMM_FN fc_f32_igemm_fn
#define FC_GEMM_FN fc_f32_gemm_fn
#define FC_TR_FN fc_f32_transpose_fn
#define FC_GRADW_FN fc_f32_gradw_fn
#define FC_GRADX_FN fc_f32_gradx_fn
#define FC_DWGRADW_FN fc_f32_dwgradw_fn
#include "conv-grad-impl.h"
#undef FC_T
#undef FC_DT
#undef FC_SFX
#undef FC_IGEMM_FN
#undef FC_GEMM_FN
#undef FC_TR_FN
#undef FC_GRADW_FN
#undef FC_GRADX_FN
#undef FC_DWGRADW_FN

#define FC_T double
#define FC_DT "f64"
#define FC_SFX _f64
#define FC_IGEMM_FN fc_f64_igemm_fn
#define FC_GEMM_FN fc_f64_gemm_fn
#define FC_TR_FN fc_f64_transpose_fn
#define FC_GRADW_FN fc_f64_gradw_fn
#define FC_GRADX_FN fc_f64_gradx_fn
#define FC_DWGRADW_FN fc_f64_dwgradw_fn
#include "conv-grad-impl.h"
