/* Pooling micro-kernels: the vector loops every pooling driver (src/pool/)
 * is built from. One table of kernels per (dtype, ISA), registered in
 * kernels.inc as op "pool"; the registered function returns the table.
 *
 * All kernels work along one contiguous dimension of length n: W inside an
 * NCHW row, or the channels of an NHWC pixel. "Rows" are `nr` pointers to n
 * contiguous values each (window taps, in window order); rows may overlap
 * each other but never the outputs. Max follows PyTorch's scalar rule
 * (a later value wins if it is greater or NaN): the first maximum, or the last
 * NaN, of the rows in order. `acc` = 0 starts from rows[0]; `acc` = 1 carries
 * on from the running result already in the outputs (taps in chunks). Kernels with an
 * `nt` flag stream their stores past the caches; the caller then fences (sfence) before
 * another thread reads them. */
#ifndef FC_POOL_UKERNELS_H
#define FC_POOL_UKERNELS_H
#include "fastconv.h"

/* Largest `nr` a driver passes in one call (it chunks longer tap lists). */
#define FC_POOL_MAX_ROWS 64
/* Rank of a padding column in the NCHW two-pass argmax: loses every tie. */
#define FC_POOL_RANK_PAD INT32_MAX

#define FC_POOL_UKERNELS_TYPE(T, NAME)                                                       \
    typedef struct {                                                                         \
        /* y[i] = max_r x[r][i] */                                                           \
        void (*vmax)(size_t n, size_t nr, const T *const *x, T *y, int acc);                 \
        /* y[i] = max_r x[r][i], arg[i] = t0 + its r */                                      \
        void (*vmaxarg)(size_t n, size_t nr, const T *const *x, T *y, int32_t *arg,          \
                        int32_t t0, int acc);                                                \
        /* Second pass of a separable argmax: candidate r has value x[r][i] and rank         \
         * (window row) rank[r][i]; the winner is the row-major first maximum (lowest        \
         * rank, then lowest r) or the row-major last NaN. y, arg (t0 + r), rank_out. */     \
        void (*vmaxarg_ranked)(size_t n, size_t nr, const T *const *x,                       \
                               const int32_t *const *rank, T *y, int32_t *arg,               \
                               int32_t *rank_out, int32_t t0, int acc);                      \
        /* y[i] = sum_r x[r][i] (+ y[i] if acc) */                                           \
        void (*vsum)(size_t n, size_t nr, const T *const *x, T *y, int acc);                 \
        /* y[i] *= s * cs[i] (cs may be NULL: y[i] *= s) */                                  \
        void (*vscale)(size_t n, T s, const T *cs, T *y);                                    \
        /* y[r][i] += s * x[i], rows in order (rows may overlap each other) */               \
        void (*vaxpy)(size_t n, size_t nr, T *const *y, const T *x, T s);                    \
        /* y[r][i] += g[i] where arg[i] == t0 + r (max-pool gradient scatter) */             \
        void (*vscatter_arg)(size_t n, size_t nr, T *const *y, const T *g,                   \
                             const int32_t *arg, int32_t t0);                                \
        /* Max-pool gradient of one output row whose windows neither overlap nor leave     \
         * the input (stride >= kernel, dilation 1): a pixel is c values, pixels ld apart   \
         * in x, g and gx (NCHW: c = ld = 1);                                                \
         * window o covers pixels [o*s, o*s + kw) of the kh rows x[r]; gx[r] gets g at the   \
         * window's argmax (PyTorch's rule) and 0 at its other taps and at the gap pixels    \
         * [o*s + kw, (o+1)*s) of o < n - 1. nt: stream the stores past the caches. */        \
        void (*maxbwd_tiled)(size_t n, size_t c, size_t ld, size_t s, size_t kw, size_t kh,  \
                             const T *const *x, const T *g, T *const *gx, int nt);           \
        /* Max pooling of one NCHW output row, 3x3 windows, stride 2, no dilation, no    \
         * indices: rows[kh] is the input row of window row kh (W values), NULL where it   \
         * lies in the padding; window o covers columns [2o - PL, 2o - PL + 3); every       \
         * window has a tap inside the input. Returns 0 (y undefined) where this ISA has   \
         * no such kernel or the row has a NaN (the caller takes the separable passes). */ \
        int (*maxfwd_3x3s2)(size_t W, size_t OW, size_t PL, const T *const *rows, T *y);    \
        /* Max-pool gradient of one NCHW plane for 3x3 windows, stride 2, no dilation:   \
         * x and gx are H x W, g is OH x OW, padding PT (top) and PL (left); every value    \
         * of gx is written (0 where no window selects it); each selected input gets the   \
         * g of its windows added in output order, from 0 (bitwise the indices path's       \
         * sums). buf: scratch of 8 * (OW + PL + W + 32) values. nt: stream gx's rows past   \
         * the caches (each written once, in order). */                                      \
        void (*maxbwd_3x3s2)(size_t H, size_t W, size_t OH, size_t OW, size_t PT, size_t PL, \
                             const T *x, const T *g, T *gx, T *buf, int nt);                 \
        /* NHWC counterpart of maxbwd_3x3s2 for one image: pixels of cn channels, ld      \
         * apart (rows W * ld apart) in x, g and gx; the same sums, in output order. */       \
        void (*maxbwd_3x3s2_nhwc)(size_t H, size_t W, size_t OH, size_t OW, size_t PT,       \
                                  size_t PL, size_t cn, size_t ld, const T *x, const T *g,    \
                                  T *gx);                                                    \
        /* per channel i < c: the argmax r of x[r][i] over the nr taps (PyTorch's rule),   \
         * then gx[r][i] += g[i] (NHWC max-pool gradient of one output pixel);             \
         * nr <= FC_POOL_MAX_ROWS */                                                          \
        void (*maxbwd_taps)(size_t c, size_t nr, const T *const *x, T *const *gx,            \
                            const T *g);                                                     \
        /* Average-pool gradient of nr input rows d[q] that no two windows share (stride >=  \
         * kernel, dilation 1): pixels of cn values, ld apart in g and d (NCHW: cn = ld = 1); \
         * column c < w gets (rf * cf[o]) * g[o] (cf NULL: rf * g[o]) with o = col[c] >= 0,  \
         * or 0 where col[c] < 0 (then -1 - col[c] is the output the column would fall in);  \
         * col is non-decreasing in that output; g holds ow pixels, cf ow factors. nt: stream \
         * full aligned vectors past the caches (each value is written once). w = 0 writes  \
         * nothing and returns 1 if this ISA places NCHW rows (cn = ld = 1) in vectors (else \
         * the general path is faster there); otherwise returns 1. */                        \
        int (*avgbwd_rows)(size_t w, size_t cn, size_t ld, const int32_t *col, T rf,         \
                            const T *cf, const T *g, size_t ow, size_t nr, T *const *d,      \
                            int nt);                                                         \
        /* 2x2 windows, stride 2, no padding or dilation, no indices; a pixel is c      \
         * values (NCHW 1, NHWC the channels): output row r < rows (OW pixels, rows       \
         * contiguous in y) from input rows x + 2r*W*c and x + (2r+1)*W*c (2*OW <= W,   \
         * 2c <= 2048); avg: the sum times s, else the max (PyTorch's rule). */          \
        void (*pool2x2s2)(size_t rows, size_t W, size_t OW, size_t c, const T *x, T *y,   \
                          int avg, T s);                                                 \
        /* phases: y[p*n + i] = x[i*s + p] for p < s, i < n */                               \
        void (*deinterleave)(size_t n, size_t s, const T *x, T *y);                          \
        void (*deinterleave_i32)(size_t n, size_t s, const int32_t *x, int32_t *y);          \
        /* inverse: x[i*s + p] = y[p*n + i] */                                               \
        void (*interleave)(size_t n, size_t s, const T *y, T *x);                            \
        /* y[p] = s * sum of the hw values of plane p (contiguous planes) */                 \
        void (*gsum)(size_t planes, size_t hw, const T *x, T s, T *y);                       \
        /* every value of plane p of y (hw contiguous values) = s * g[p] */                 \
        void (*gfill)(size_t planes, size_t hw, const T *g, T s, T *y);                     \
        /* y[p] = max of the hw values of plane p (NaN if any is NaN) */                     \
        void (*gmax)(size_t planes, size_t hw, const T *x, T *y);                            \
    } NAME;

FC_POOL_UKERNELS_TYPE(float, fc_f32_pool_ukernels)
FC_POOL_UKERNELS_TYPE(double, fc_f64_pool_ukernels)

/* What kernels.inc registers: a function returning the table of its unit. */
typedef const fc_f32_pool_ukernels *(*fc_f32_pool_table_fn)(void);
typedef const fc_f64_pool_ukernels *(*fc_f64_pool_table_fn)(void);
#endif
