/* Direct grad-input ("gradx") micro-kernels for few input channels: a sum of
 * shifted planes, vectorised along the pixels of a zero-padded plane.
 *
 *   out[m*ldo + p] = sum_{k < nk} sum_{t < nt} w[(k*nt + t)*MR + m] * src[k*ps + off[t] + p]
 *
 * for m < MR and p < np rounded up to the kernel's nr (pixels per step).
 * src : nk planes of grad_output, ps elements apart, padded with zeros so a
 *       tap's shift off[t] (>= 0) is a plain offset; every read must land in
 *       readable, finite memory (the driver pads the plane ends).
 * w   : weights [k][tap][MR], zeros for the channels past the block.
 * out : MR rows of ldo elements, fully overwritten up to the rounded np.
 * The pixel order of out is the padded plane's: the driver drops the columns
 * that fall in the padding. One (m, p) is always summed in the same order. */
#ifndef FC_GRADX_H
#define FC_GRADX_H
#include "fastconv.h"

typedef void (*fc_f32_gradx_fn)(size_t np, size_t nk, size_t nt, const float *src, size_t ps,
                                const int64_t *off, const float *w, float *out, size_t ldo);
typedef void (*fc_f64_gradx_fn)(size_t np, size_t nk, size_t nt, const double *src, size_t ps,
                                const int64_t *off, const double *w, double *out, size_t ldo);
#endif
