# cython: language_level=3
"""conv2d gradients and conv_transpose2d (fastconv._conv_grad): arrays -> C pointers.

Shapes, dtypes and contiguity are checked by fastconv/conv_grad.py; this module
only takes the data pointers and releases the GIL around the C drivers.
"""
cimport numpy as cnp
from libc.stdint cimport int64_t
from common cimport fc_conv_geom, conv_geom, check_status

import numpy as np

cnp.import_array()

cdef extern from "conv_grad/conv-grad.h" nogil:
    int fc_conv2d_grad_input_f32(const fc_conv_geom *g, const float *gy, const float *w,
                                 const float *bias, float *gx, int isa, int nthreads)
    int fc_conv2d_grad_input_f64(const fc_conv_geom *g, const double *gy, const double *w,
                                 const double *bias, double *gx, int isa, int nthreads)
    int fc_expand_strided_f32(int64_t planes, int64_t OH, int64_t OW, int64_t H, int64_t W,
                              int64_t SH, int64_t SW, const float *d, float *gx, int nthreads)
    int fc_expand_strided_f64(int64_t planes, int64_t OH, int64_t OW, int64_t H, int64_t W,
                              int64_t SH, int64_t SW, const double *d, double *gx,
                              int nthreads)
    int fc_conv2d_grad_weight_f32(const fc_conv_geom *g, const float *gy, const float *x,
                                  float *gw, float *gb, int isa, int nthreads)
    int fc_conv2d_grad_weight_f64(const fc_conv_geom *g, const double *gy, const double *x,
                                  double *gw, double *gb, int isa, int nthreads)


cdef inline void *ptr(object a):
    return NULL if a is None else cnp.PyArray_DATA(<cnp.ndarray>a)


cdef int _run(bint weight, bint f64, g, a0, a1, a2, a3, int isa, int nthreads) except? -1:
    """Call one driver: weight -> (gy, x, gw, gb), else (gy, w, bias, gx); returns its status."""
    cdef fc_conv_geom cg = conv_geom(g)
    cdef void *p0 = ptr(a0)
    cdef void *p1 = ptr(a1)
    cdef void *p2 = ptr(a2)
    cdef void *p3 = ptr(a3)
    cdef int status
    with nogil:
        if weight and f64:
            status = fc_conv2d_grad_weight_f64(&cg, <const double *>p0, <const double *>p1,
                                               <double *>p2, <double *>p3, isa, nthreads)
        elif weight:
            status = fc_conv2d_grad_weight_f32(&cg, <const float *>p0, <const float *>p1,
                                               <float *>p2, <float *>p3, isa, nthreads)
        elif f64:
            status = fc_conv2d_grad_input_f64(&cg, <const double *>p0, <const double *>p1,
                                              <const double *>p2, <double *>p3, isa, nthreads)
        else:
            status = fc_conv2d_grad_input_f32(&cg, <const float *>p0, <const float *>p1,
                                              <const float *>p2, <float *>p3, isa, nthreads)
    return status


def grad_input(g, cnp.ndarray gy, cnp.ndarray w, bias, cnp.ndarray gx, int isa, int nthreads):
    """gx = grad of conv2d w.r.t. its input (+ bias per channel: conv_transpose2d)."""
    check_status(_run(False, gx.dtype.itemsize == 8, g, gy, w, bias, gx, isa, nthreads))


def grad_weight(g, cnp.ndarray gy, cnp.ndarray x, gw, gb, int isa, int nthreads):
    """gw (OIHW) and/or gb (K,) of conv2d; either may be None."""
    check_status(_run(True, x.dtype.itemsize == 8, g, gy, x, gw, gb, isa, nthreads))


def expand_strided(cnp.ndarray d, cnp.ndarray gx, int64_t SH, int64_t SW, int nthreads):
    """gx[..., oh*SH, ow*SW] = d[..., oh, ow], 0 elsewhere (conv-grad.h); d and gx
    C-contiguous, 4-D, of one float dtype, with the same leading two dimensions."""
    if (d.ndim != 4 or gx.ndim != 4 or d.dtype != gx.dtype or d.shape[0] != gx.shape[0]
            or d.shape[1] != gx.shape[1] or not d.flags.c_contiguous
            or not gx.flags.c_contiguous or not gx.flags.writeable):
        raise ValueError("d and gx must be C-contiguous 4-D arrays of one dtype, "
                         "gx writeable, with the same (N, C)")
    if d.dtype != np.float32 and d.dtype != np.float64:
        raise TypeError(f"d must be float32 or float64, got {d.dtype}")
    cdef int64_t planes = d.shape[0] * d.shape[1]
    cdef int64_t OH = d.shape[2], OW = d.shape[3], H = gx.shape[2], W = gx.shape[3]
    cdef void *dp = cnp.PyArray_DATA(d)
    cdef void *gp = cnp.PyArray_DATA(gx)
    cdef bint f64 = d.dtype == np.float64
    cdef int status
    with nogil:
        if f64:
            status = fc_expand_strided_f64(planes, OH, OW, H, W, SH, SW, <const double *>dp,
                                           <double *>gp, nthreads)
        else:
            status = fc_expand_strided_f32(planes, OH, OW, H, W, SH, SW, <const float *>dp,
                                           <float *>gp, nthreads)
    check_status(status)
