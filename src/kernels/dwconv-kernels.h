/* Depthwise conv2d micro-kernels (one filter per channel), two families:
 *
 * dwconv_nhwc: a run of output rows of one image, vectorised over channels.
 *   Tiles of up to 8 output pixels x 2 channel vectors; taps falling in the
 *   padding are skipped (kernel rows clamped per row, kernel columns per border
 *   pixel), so no padded copy is made. The channel tail is masked.
 *
 * dwconv_nchw: output rows of a range of channel planes, vectorised along W,
 *   reading the input in place with masked loads (taps in the padding are
 *   masked-off lanes, so no padded copy). Stride 1 planes whose output is as
 *   wide as the input and only a few vectors long go as one flat 1-D signal
 *   (row stride W), vectors running across row ends, with a per-call table of
 *   (vector, tap) masks: a 7x7 plane fills 4 vectors instead of 7 rows of one.
 *   Stride 2 deinterleaves pairs of vectors; larger strides copy the rows they
 *   need into `scratch`, zero padded and split by column phase (col % SW).
 */
#ifndef FC_DWCONV_KERNELS_H
#define FC_DWCONV_KERNELS_H
#include "fastconv.h"

typedef struct {
    const void *x;        /* input image (H, W, C) of one batch item */
    const void *w;        /* packed weights [KH*KW][Cp], zero past C */
    const void *bias;     /* [Cp], zeros where the call has no bias */
    void *y;              /* output image (OH, OW, C) of the same batch item */
    int64_t C, Cp, H, W;  /* channels, padded channels (multiple of 16), input size */
    int64_t OW, KH, KW, SH, SW, DH, DW, PT, PL;
    int64_t oh0, oh1;     /* output rows to compute */
    int64_t ow0, ow1;     /* output pixels to compute in each */
    int64_t c0, c1;       /* channels to compute; c0 a multiple of 16 */
    int64_t YS;           /* elements between output pixels: C, or a multiple
                             of C (grad input writes one stride phase's pixels) */
    uint32_t flags;       /* FC_FLAG_RELU */
} fc_dwconv_nhwc_args;

typedef struct {
    const void *x;        /* input planes (N*C, H, W); plane p at x + p*H*W */
    const void *w;        /* filters (C, KH, KW) */
    const void *bias;     /* (C,) or NULL */
    void *y;              /* output planes (N*C, OH, OW) */
    void *scratch;        /* fc_dwconv_nchw_scratch_bytes() bytes, 64-byte aligned */
    int64_t C, H, W, OH, OW;
    int64_t KH, KW, SH, SW, DH, DW, PT, PL;
    int64_t p0, p1;       /* planes to compute (n*C + c) */
    int64_t oh0, oh1;     /* output rows to compute in each */
    uint32_t flags;       /* FC_FLAG_RELU */
} fc_dwconv_nchw_args;

typedef void (*fc_dwconv_fn)(const void *args);

/* Elements per phase row of the NCHW scratch: the taps' reach plus one vector
 * of slack, so that the full-vector loads of a row's last tile stay inside. */
static inline int64_t fc_dwconv_nchw_phase_stride(int64_t OW, int64_t KW, int64_t SW,
                                                  int64_t DW) {
    return (OW + ((KW - 1) * DW) / SW + 1 + 16 + 15) & ~(int64_t)15;
}
/* Past this many scratch elements the answer saturates here: 2^46 elements
 * are more bytes than a 47-bit user address space holds, so the driver's
 * allocation fails (FC_ENOMEM) instead of an int64 product wrapping around to
 * a small buffer (absurd strides/dilations/padding), and the callers' further
 * products (x channels, x element size, x threads) stay far from overflow. */
#define FC_DWN_SCRATCH_CAP ((int64_t)1 << 46)
/* Scratch elements the NCHW kernel needs for `rows` output rows. */
static inline int64_t fc_dwconv_nchw_scratch(int64_t rows, int64_t OW, int64_t KH, int64_t KW,
                                             int64_t SH, int64_t SW, int64_t DH, int64_t DW) {
    int64_t in_rows = (rows - 1) * SH + (KH - 1) * DH + 1, n;
    if (__builtin_mul_overflow(in_rows, SW, &n) ||
        __builtin_mul_overflow(n, fc_dwconv_nchw_phase_stride(OW, KW, SW, DW), &n) ||
        n > FC_DWN_SCRATCH_CAP)
        return FC_DWN_SCRATCH_CAP;
    return n;
}
/* Most (vector, tap) masks the flat NCHW mode tabulates, and the bytes of one
 * mask at most (an AVX2 vector). */
#define FC_DWN_FLAT_MASKS 1024
#define FC_DWN_MASK_BYTES 32
/* Scratch bytes per NCHW kernel call computing `rows` output rows: the mask
 * tables (flat: (vector, tap); by rows: (vector, kw, half), at most 8 bytes a
 * lane), or the phase-split rows of strides above 2. */
static inline int64_t fc_dwconv_nchw_scratch_bytes(int64_t rows, int64_t OW, int64_t KH,
                                                   int64_t KW, int64_t SH, int64_t SW,
                                                   int64_t DH, int64_t DW, int64_t es) {
    int64_t m = FC_DWN_FLAT_MASKS * FC_DWN_MASK_BYTES, r = KW * 2 * (8 * OW + 32);
    if (r > m) m = r;
    int64_t f = SW > 2 ? fc_dwconv_nchw_scratch(rows, OW, KH, KW, SH, SW, DH, DW) * es : 0;
    return ((m > f ? m : f) + 63) & ~(int64_t)63;
}
#endif
