/* Small-channel conv2d micro-kernel ("smallc"): a run of output rows of one
 * image, all output channels, for reductions (C/G*KH*KW) too short for a GEMM
 * tile to pay off (LeNet, RGB stems). Groups must be 1.
 *
 * The kernel copies the input rows it needs into `scratch` (every channel,
 * zero padded, split by column phase, transposed to planes where the input is
 * NHWC), then computes tiles of KB output channels x U vectors along W,
 * broadcasting weights. NCHW output is stored by vectors; NHWC output goes
 * through a small register-tile transpose. */
#ifndef FC_SMALLC_KERNELS_H
#define FC_SMALLC_KERNELS_H
#include "fastconv.h"
#include "dwconv-kernels.h"

typedef struct {
    const void *x;        /* input image of one batch item: (C,H,W) or (H,W,C) per layout */
    const void *w;        /* packed weights [C][KH][KW][K] */
    const void *bias;     /* [K], zeros where the call has no bias */
    void *y;              /* output image of that batch item: (K,OH,OW) or (OH,OW,K) */
    void *scratch;        /* fc_smallc_scratch() elements, 64-byte aligned */
    int64_t C, H, W, K, OH, OW;
    int64_t KH, KW, SH, SW, DH, DW, PT, PL;
    int64_t oh0, oh1;     /* output rows to compute */
    int layout;           /* FC_NCHW or FC_NHWC */
    uint32_t flags;       /* FC_FLAG_RELU */
} fc_smallc_args;

typedef void (*fc_smallc_fn)(const void *args);

/* Scratch elements the kernel needs for `rows` output rows. */
static inline int64_t fc_smallc_scratch(int64_t C, int64_t rows, int64_t OW, int64_t KH,
                                        int64_t KW, int64_t SH, int64_t SW, int64_t DH,
                                        int64_t DW) {
    return C * fc_dwconv_nchw_scratch(rows, OW, KH, KW, SH, SW, DH, DW);
}
#endif
