# cython: language_level=3
"""conv2d gradients and conv_transpose2d (fastconv._conv_grad): arrays -> C pointers.

Shapes, dtypes and contiguity are checked by fastconv/conv_grad.py; this module
only takes the data pointers and releases the GIL around the C drivers.
"""
cimport numpy as cnp
from common cimport fc_conv_geom, conv_geom, check_status

cnp.import_array()

cdef extern from "conv_grad/conv-grad.h" nogil:
    int fc_conv2d_grad_input_f32(const fc_conv_geom *g, const float *gy, const float *w,
                                 const float *bias, float *gx, int isa, int nthreads)
    int fc_conv2d_grad_input_f64(const fc_conv_geom *g, const double *gy, const double *w,
                                 const double *bias, double *gx, int isa, int nthreads)
    int fc_conv2d_grad_weight_f32(const fc_conv_geom *g, const float *gy, const float *x,
                                  float *gw, float *gb, int isa, int nthreads)
    int fc_conv2d_grad_weight_f64(const fc_conv_geom *g, const double *gy, const double *x,
                                  double *gw, double *gb, int isa, int nthreads)


cdef inline void *ptr(object a):
    return NULL if a is None else cnp.PyArray_DATA(<cnp.ndarray>a)


def grad_input(g, cnp.ndarray gy, cnp.ndarray w, bias, cnp.ndarray gx, int isa, int nthreads):
    """gx = grad of conv2d w.r.t. its input (+ bias per channel: conv_transpose2d)."""
    cdef fc_conv_geom cg = conv_geom(g)
    cdef void *pgy = ptr(gy)
    cdef void *pw = ptr(w)
    cdef void *pb = ptr(bias)
    cdef void *pgx = ptr(gx)
    cdef int status
    cdef bint f64 = gx.dtype.itemsize == 8
    with nogil:
        if f64:
            status = fc_conv2d_grad_input_f64(&cg, <const double *>pgy, <const double *>pw,
                                              <const double *>pb, <double *>pgx, isa, nthreads)
        else:
            status = fc_conv2d_grad_input_f32(&cg, <const float *>pgy, <const float *>pw,
                                              <const float *>pb, <float *>pgx, isa, nthreads)
    check_status(status)


def grad_weight(g, cnp.ndarray gy, cnp.ndarray x, gw, gb, int isa, int nthreads):
    """gw (OIHW) and/or gb (K,) of conv2d; either may be None."""
    cdef fc_conv_geom cg = conv_geom(g)
    cdef void *pgy = ptr(gy)
    cdef void *px = ptr(x)
    cdef void *pgw = ptr(gw)
    cdef void *pgb = ptr(gb)
    cdef int status
    cdef bint f64 = x.dtype.itemsize == 8
    with nogil:
        if f64:
            status = fc_conv2d_grad_weight_f64(&cg, <const double *>pgy, <const double *>px,
                                               <double *>pgw, <double *>pgb, isa, nthreads)
        else:
            status = fc_conv2d_grad_weight_f32(&cg, <const float *>pgy, <const float *>px,
                                               <float *>pgw, <float *>pgb, isa, nthreads)
    check_status(status)
