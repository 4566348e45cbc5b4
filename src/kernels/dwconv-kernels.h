/* Depthwise conv2d micro-kernels (one filter per channel), two families:
 *
 * dwconv_nhwc: one output row segment of one image, vectorised over channels.
 *   Tiles of up to 4 output pixels x 4 channel vectors; taps falling in the
 *   padding are skipped (kernel rows clamped per row, kernel columns per border
 *   pixel), so no padded copy is made. The channel tail is masked.
 *
 * dwconv_nchw: a run of output rows of one channel plane, vectorised along W.
 *   The kernel first copies the input rows it needs into `scratch`, zero padded
 *   and split by column phase (col % SW), so that every tap of every stride
 *   reads contiguous vectors; then it filters with full vectors and a masked
 *   last vector per row.
 */
#ifndef FC_DWCONV_KERNELS_H
#define FC_DWCONV_KERNELS_H
#include "fastconv.h"

typedef struct {
    const void *x;        /* input image (H, W, C) of one batch item */
    const void *w;        /* packed weights [KH*KW][Cp], zero past C */
    const void *bias;     /* [Cp], zeros where the call has no bias */
    void *y;              /* output row (OW, C) */
    int64_t C, Cp, H, W;  /* channels, padded channels (multiple of 16), input size */
    int64_t KH, KW, SW, DH, DW, PL;
    int64_t ih0;          /* input row of kernel row 0: oh*SH - PT (may be < 0) */
    int64_t ow0, ow1;     /* output pixels to compute */
    int64_t c0, c1;       /* channels to compute; c0 a multiple of 16 */
    uint32_t flags;       /* FC_FLAG_RELU */
} fc_dwconv_nhwc_args;

typedef struct {
    const void *x;        /* input plane (H, W) of one channel */
    const void *w;        /* its filter (KH, KW) */
    const void *bias;     /* one value (never NULL) */
    void *y;              /* output rows oh0 .. oh1-1, row i at y + i*OW */
    void *scratch;        /* fc_dwconv_nchw_scratch() elements, 64-byte aligned */
    int64_t H, W, OW;
    int64_t KH, KW, SH, SW, DH, DW, PT, PL;
    int64_t oh0, oh1;     /* output rows to compute */
    uint32_t flags;       /* FC_FLAG_RELU */
} fc_dwconv_nchw_args;

typedef void (*fc_dwconv_fn)(const void *args);

/* Elements per phase row of the NCHW scratch: the taps' reach plus one vector
 * of slack, so that the full-vector loads of a row's last tile stay inside. */
static inline int64_t fc_dwconv_nchw_phase_stride(int64_t OW, int64_t KW, int64_t SW,
                                                  int64_t DW) {
    return (OW + ((KW - 1) * DW) / SW + 1 + 16 + 15) & ~(int64_t)15;
}
/* Scratch elements the NCHW kernel needs for `rows` output rows. */
static inline int64_t fc_dwconv_nchw_scratch(int64_t rows, int64_t OW, int64_t KH, int64_t KW,
                                             int64_t SH, int64_t SW, int64_t DH, int64_t DW) {
    int64_t in_rows = (rows - 1) * SH + (KH - 1) * DH + 1;
    return in_rows * SW * fc_dwconv_nchw_phase_stride(OW, KW, SW, DW);
}
#endif
