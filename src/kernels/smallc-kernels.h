/* Small-channel conv2d micro-kernels: a run of output rows of one image, all
 * output channels, for reductions (C/G*KH*KW) too short for a GEMM tile to
 * pay off (LeNet, RGB stems). Groups must be 1. Two families share the
 * argument block:
 *
 * smallc (vectorised along W, template smallc.h):
 *
 * The kernel copies the input rows it needs into `scratch` (every channel,
 * zero padded, split by column phase, transposed to planes where the input is
 * NHWC), then computes tiles of KB output channels x U vectors along W,
 * broadcasting weights. NCHW output is stored by vectors; NHWC output goes
 * through a small register-tile transpose. Best where K is small (LeNet conv1).
 *
 * smallc_kvec (vectorised over output channels, template smallc-kvec.h): the
 * kernel copies the rows it needs into scratch as padded [col][c] rows
 * (fc_smallc_kvec_scratch), then computes tiles of pixels x blocks of NR
 * output channels, broadcasting inputs: NHWC output is stored by vectors,
 * NCHW output goes through a small buffer. Best where K fills the vectors
 * and the output rows are short or NHWC (stems, LeNet conv2). */
#ifndef FC_SMALLC_KERNELS_H
#define FC_SMALLC_KERNELS_H
#include "fastconv.h"
#include "dwconv-kernels.h"

typedef struct {
    const void *x;        /* input image of one batch item: (C,H,W) or (H,W,C) per layout */
    const void *w;        /* smallc: packed weights [C][KH][KW][K]; smallc_kvec: per block
                             of NR channels [KH][KW][C][NR], zero past K, block b at b*NR*T */
    const void *bias;     /* [K] (smallc_kvec: [K rounded up to NR]), zeros where no bias */
    void *y;              /* output image of that batch item: (K,OH,OW) or (OH,OW,K) */
    void *scratch;        /* fc_smallc_scratch() elements, 64-byte aligned */
    int64_t C, H, W, K, OH, OW;
    int64_t KH, KW, SH, SW, DH, DW, PT, PL;
    int64_t oh0, oh1;     /* output rows to compute */
    int layout;           /* FC_NCHW or FC_NHWC */
    uint32_t flags;       /* FC_FLAG_RELU */
    int64_t NR;           /* smallc_kvec: output channels per packed block (kernel's nr) */
} fc_smallc_args;

typedef void (*fc_smallc_fn)(const void *args);

/* Scratch elements the kernel needs for `rows` output rows. */
static inline int64_t fc_smallc_scratch(int64_t C, int64_t rows, int64_t OW, int64_t KH,
                                        int64_t KW, int64_t SH, int64_t SW, int64_t DH,
                                        int64_t DW) {
    return C * fc_dwconv_nchw_scratch(rows, OW, KH, KW, SH, SW, DH, DW);
}

/* Padded columns of a smallc_kvec scratch row: the reach of the last output pixel. */
static inline int64_t fc_smallc_kvec_width(int64_t OW, int64_t KW, int64_t SW, int64_t DW) {
    return (OW - 1) * SW + (KW - 1) * DW + 1;
}

/* Scratch elements smallc_kvec needs for `rows` output rows. */
static inline int64_t fc_smallc_kvec_scratch(int64_t C, int64_t rows, int64_t OW, int64_t KH,
                                             int64_t KW, int64_t SH, int64_t SW, int64_t DH,
                                             int64_t DW) {
    return ((rows - 1) * SH + (KH - 1) * DH + 1) * fc_smallc_kvec_width(OW, KW, SW, DW) * C;
}
#endif
