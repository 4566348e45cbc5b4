/* 2-D pooling drivers: max / average / global, forward and backward, NCHW
 * and NHWC, float32 / float64. Sizes come from fastconv/_shapes.py
 * (PoolGeometry); the drivers only check them, tile, thread and call the
 * kernels of src/kernels/pool-ukernels.h. */
#ifndef FC_POOL_H
#define FC_POOL_H
#include <unistd.h>
#include "fastconv.h"

/* Gradients into gx of more bytes than this stream their stores past the
 * caches; 0 (the default): 3/4 of the last-level cache (fc_pool_stream_min_bytes).
 * Set by fastconv._pool.set_stream_min_bytes, for tests. */
extern int64_t fc_pool_stream_min;

/* 3/4 of the last-level cache (sysconf; 32 MiB where it does not say), glibc's
 * memcpy threshold for non-temporal stores, or fc_pool_stream_min when set. */
static inline int64_t fc_pool_stream_min_bytes(void) {
    if (fc_pool_stream_min > 0) return fc_pool_stream_min;
    static int64_t llc = 0; /* a benign race: every thread computes the same value */
    if (llc == 0) {
        long b = 0;
#ifdef _SC_LEVEL3_CACHE_SIZE
        b = sysconf(_SC_LEVEL3_CACHE_SIZE);
#endif
        llc = b > 0 ? (int64_t)b : (int64_t)32 << 20;
    }
    return llc / 4 * 3;
}

/* Geometry of one pooling: input (N, C, H, W) -> output (N, C, OH, OW), both in
 * `layout`. PB/PR (end padding) bound the padded input that average pooling's
 * count_include_pad divisor counts; ceil-mode windows may hang past it. */
typedef struct {
    int64_t N, C, H, W;     /* input */
    int64_t OH, OW;         /* output */
    int64_t KH, KW;         /* window */
    int64_t SH, SW;         /* stride */
    int64_t DH, DW;         /* dilation */
    int64_t PT, PB, PL, PR; /* padding: top, bottom, left, right */
    int layout;             /* FC_NCHW or FC_NHWC */
} fc_pool_geom;

/* 1 if the sizes are consistent: positive, and every window starts inside the
 * padded input (PyTorch's ceil-mode rule), so no window starts past the data. */
static inline int fc_pool_geom_ok(const fc_pool_geom *g) {
    if (g->N < 0 || g->C < 0 || g->H < 1 || g->W < 1 || g->OH < 1 || g->OW < 1) return 0;
    if (g->KH < 1 || g->KW < 1 || g->SH < 1 || g->SW < 1 || g->DH < 1 || g->DW < 1) return 0;
    if (g->PT < 0 || g->PB < 0 || g->PL < 0 || g->PR < 0) return 0;
    if (g->layout != FC_NCHW && g->layout != FC_NHWC) return 0;
    if ((g->OH - 1) * g->SH >= g->H + g->PT + g->PB) return 0;
    if ((g->OW - 1) * g->SW >= g->W + g->PL + g->PR) return 0;
    if (g->KH * g->KW > INT32_MAX / 2) return 0; /* window-relative indices are int32 */
    return 1;
}

/* The taps k < K of a window starting at `start` (step `D`) that land in
 * [lo, hi): k in [*a, *b) (empty: *a == *b). */
static inline void fc_tap_range(int64_t start, int64_t K, int64_t D, int64_t lo, int64_t hi,
                                int64_t *a, int64_t *b) {
    int64_t first = start >= lo ? 0 : fc_cdiv(lo - start, D);
    int64_t last = start > hi - 1 ? -1 : fc_min64(K - 1, (hi - 1 - start) / D);
    *a = fc_min64(first, K);
    *b = last + 1 > *a ? last + 1 : *a;
}

/* Max pooling forward. x: input, y: output, per g->layout. idx: NULL, or int64
 * indices shaped like y holding h*W + w of each maximum in its input plane
 * (-1 for a window lying entirely in padding, whose y is -inf). */
int fc_max_pool2d_f32(const fc_pool_geom *g, const float *x, float *y, int64_t *idx,
                      int isa, int nthreads);
int fc_max_pool2d_f64(const fc_pool_geom *g, const double *x, double *y, int64_t *idx,
                      int isa, int nthreads);

/* Average pooling forward, x -> y per g->layout. count_include_pad: divide by
 * the window's taps inside the padded input, else inside the input;
 * divisor_override > 0 replaces the divisor. */
int fc_avg_pool2d_f32(const fc_pool_geom *g, const float *x, float *y, int count_include_pad,
                      int64_t divisor_override, int isa, int nthreads);
int fc_avg_pool2d_f64(const fc_pool_geom *g, const double *x, double *y,
                      int count_include_pad, int64_t divisor_override, int isa, int nthreads);

/* Max pooling backward: gx (input-shaped, overwritten) from gy (output-shaped).
 * idx NULL: the argmax is recomputed from x; else idx (output-shaped int64,
 * values in [0, H*W) or -1 = dropped) is used and x is not read; an index out
 * of range writes nothing and makes the call return FC_EINVAL. */
int fc_max_pool2d_backward_f32(const fc_pool_geom *g, const float *gy, const float *x,
                               const int64_t *idx, float *gx, int isa, int nthreads);
int fc_max_pool2d_backward_f64(const fc_pool_geom *g, const double *gy, const double *x,
                               const int64_t *idx, double *gx, int isa, int nthreads);

/* Average pooling backward: gx (input-shaped, overwritten) from gy; options as
 * in fc_avg_pool2d_*. */
int fc_avg_pool2d_backward_f32(const fc_pool_geom *g, const float *gy, float *gx,
                               int count_include_pad, int64_t divisor_override, int isa,
                               int nthreads);
int fc_avg_pool2d_backward_f64(const fc_pool_geom *g, const double *gy, double *gx,
                               int count_include_pad, int64_t divisor_override, int isa,
                               int nthreads);

/* Global pooling over H x W: x (N,C,H,W) or (N,H,W,C) -> y (N*C values, the
 * same order as (N,C,1,1) / (N,1,1,C)); is_max: maximum, else mean. */
int fc_global_pool2d_f32(int64_t N, int64_t C, int64_t H, int64_t W, int layout,
                         const float *x, float *y, int is_max, int isa, int nthreads);
int fc_global_pool2d_f64(int64_t N, int64_t C, int64_t H, int64_t W, int layout,
                         const double *x, double *y, int is_max, int isa, int nthreads);
#endif
